// The bindings wrangler.toml gives the authorization server.
import type { SubjectShard } from "./revocation/subject-shard";

export interface Env {
  /** Public issuer identifier: the exact `aud` IdPs put in ID-JAGs, and the `iss` of our tokens. */
  ISSUER: string;
  /** Worker secret: `{"current": kid, "keys": [private JWKs]}` (see tokens/signing-keys.ts). */
  AT_SIGNING_KEYS: string;
  /** policy:v1, client:v1:*, jwks:v1:* (kv-schemas/). */
  CONFIG: KVNamespace;
  SUBJECT_SHARD: DurableObjectNamespace<SubjectShard>;
}
