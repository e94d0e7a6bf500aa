// The shapes of every KV record ema-edge keeps, and their JSON Schema validation. The Worker
// validates what it reads and everything it writes; the admin CLI uses the same module before a
// push. @cfworker/json-schema interprets schemas without `eval`, which Workers forbid.
import { Validator } from "@cfworker/json-schema";
import policySchema from "../../kv-schemas/policy.v1.schema.json";
import clientSchema from "../../kv-schemas/client.v1.schema.json";
import jwksSchema from "../../kv-schemas/jwks.v1.schema.json";

export type SignatureAlgorithm = "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" | "ES256" | "ES384" | "EdDSA";

export interface TrustedIssuer {
  id: string;
  issuer: string;
  jwks_uri?: string;
  algorithms?: SignatureAlgorithm[];
  tenant?: string;
  default_resource?: string;
  max_assertion_lifetime_seconds?: number;
  /** The ID-JAG claim listing the subject's groups; default "groups". */
  groups_claim?: string;
  revocation?: RevocationChannels;
}

/** How an IdP pushes revocations; each channel is off unless configured. */
export interface RevocationChannels {
  okta_event_hook?: {
    /** base64url SHA-256 of the header secret(s); two during a rotation. */
    secret_sha256: string[];
    header?: string;
    hook_ids?: string[];
    group_removal?: "revoke" | "ignore";
    session_end?: "ignore" | "revoke";
    app_instance_ids?: string[];
  };
  ssf?: {
    transmitter_issuer?: string;
    jwks_uri?: string;
    audience?: string;
    authorization_sha256?: string[];
    stream_id?: string;
    algorithms?: SignatureAlgorithm[];
  };
  universal_logout?: { client_id: string };
}

/** Step-up conditions on a sensitive scope. */
export interface ScopeConditions {
  amr_any_of?: string[];
  max_auth_age_seconds?: number;
}

export interface ScopeDefinition {
  name: string;
  description?: string;
  sensitive?: boolean;
  conditions?: ScopeConditions;
}

/** Access-token lifetime when a resource names none (design.md). */
export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 300;

export interface McpResource {
  resource: string;
  name: string;
  scopes: ScopeDefinition[];
  default_scopes?: string[];
  access_token_ttl_seconds?: number;
}

export interface PolicyRule {
  id: string;
  description?: string;
  issuers?: string[];
  /** Any of these IdP groups; absent → every subject of the rule's issuers. */
  groups?: string[];
  tenants?: string[];
  email_domains?: string[];
  clients?: string[];
  resources: string[];
  scopes: "*" | string[];
  owner: string;
  approved_by: string;
  reason: string;
  /** YYYY-MM-DD. */
  review_by: string;
}

/** KV `policy:v1`. */
/** A rate-limit tier: one of the three `[[ratelimits]]` bindings in wrangler.toml, or none. */
export type RateTier = "strict" | "standard" | "generous" | "off";
export type RateLimitedEndpoint = "token" | "introspection" | "webhooks";
export interface EndpointRateLimits {
  /** Per authenticated client (not per claimed client id, which anyone could spend). */
  per_client?: RateTier;
  /** Per source address (CF-Connecting-IP), before anything is parsed. */
  per_address?: RateTier;
}

export interface PolicyDoc {
  version: number;
  pushed_at?: string;
  pushed_by?: string;
  rolled_back_from?: number;
  audience_aliases?: string[];
  /** Tiers per endpoint (http/rate-limit.ts has the defaults); introspection covers revocation too. */
  rate_limits?: Partial<Record<RateLimitedEndpoint, EndpointRateLimits>>;
  issuers: TrustedIssuer[];
  resources: McpResource[];
  rules: PolicyRule[];
}

export type ClientAuthMethod = "client_secret_basic" | "client_secret_post" | "private_key_jwt";

/** KV `client:v1:{client_id}`. */
export interface ClientRecord {
  client_id: string;
  name?: string;
  status: "active" | "disabled";
  token_endpoint_auth_methods: ClientAuthMethod[];
  client_secrets?: { hash: string; created_at: string; expires_at?: string }[];
  jwks?: { keys: JsonWebKey[] };
  grant_types: string[];
  allowed_resources?: string[];
}

/** KV `jwks:v1:{sha256(iss)}`. */
export interface JwksRecord {
  issuer: string;
  jwks_uri: string;
  fetched_at: number;
  fresh_until: number;
  jwks: { keys: JsonWebKey[] };
}

export const KV_KEYS = {
  policy: "policy:v1",
  /** Earlier versions, kept for `policy rollback` and audits. */
  policyHistory: (version: number) => `policy:v1:history:${String(version).padStart(10, "0")}`,
  policyHistoryPrefix: "policy:v1:history:",
  client: (clientId: string) => `client:v1:${clientId}`,
  /** KV keys are limited to 512 bytes, and issuers are attacker-chosen until trusted: hash them. */
  jwks: (issuerHash: string) => `jwks:v1:${issuerHash}`,
} as const;

interface RecordKinds {
  policy: PolicyDoc;
  client: ClientRecord;
  jwks: JwksRecord;
}
export type RecordKind = keyof RecordKinds;

const validators: Record<RecordKind, Validator> = {
  policy: new Validator(policySchema as object, "2020-12", false),
  client: new Validator(clientSchema as object, "2020-12", false),
  jwks: new Validator(jwksSchema as object, "2020-12", false),
};

export interface SchemaProblem {
  /** JSON Pointer into the record, e.g. `/issuers/0/jwks_uri`. */
  path: string;
  message: string;
}

export type RecordCheck<K extends RecordKind> =
  | { ok: true; value: RecordKinds[K] }
  | { ok: false; error: SchemaProblem[] };

/** Validates a parsed record against its kind's schema; problems name the path that is wrong. */
export function checkRecord<K extends RecordKind>(kind: K, value: unknown): RecordCheck<K> {
  const result = validators[kind].validate(value);
  if (result.valid) return { ok: true, value: value as RecordKinds[K] };
  // Keep the innermost problems: the validator also reports every enclosing keyword.
  const leaves = result.errors.filter(
    (e) => !result.errors.some((o) => o !== e && o.instanceLocation.startsWith(e.instanceLocation + "/")),
  );
  return {
    ok: false,
    error: leaves.map((e) => ({ path: e.instanceLocation.replace(/^#/, "") || "/", message: e.error })),
  };
}
