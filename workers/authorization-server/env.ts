// The bindings wrangler.toml gives the authorization server.
import type { SubjectShard } from "./revocation/subject-shard";

export interface Env {
  /** Public issuer identifier: the exact `aud` IdPs put in ID-JAGs, and the `iss` of our tokens. */
  ISSUER: string;
  /** Worker secret: `{"current": kid, "keys": [private JWKs]}` (see tokens/signing-keys.ts). */
  AT_SIGNING_KEYS: string;
  /** Worker secret: the bearer token of the admin API (POST /admin/revocations). Unset → no admin API. */
  ADMIN_TOKEN?: string;
  /** policy:v1, client:v1:*, jwks:v1:*, revoked:v1:* (kv-schemas/, lib/revocation-mirror.ts). */
  CONFIG: KVNamespace;
  SUBJECT_SHARD: DurableObjectNamespace<SubjectShard>;
  /** The rate-limit tiers (wrangler.toml `[[ratelimits]]`); absent → no limit (http/rate-limit.ts). */
  RATE_LIMIT_STRICT?: RateLimit;
  RATE_LIMIT_STANDARD?: RateLimit;
  RATE_LIMIT_GENEROUS?: RateLimit;
}
