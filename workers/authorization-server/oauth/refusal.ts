// Every reason the token endpoint can refuse a request for, as one tagged union. Each variant
// carries the detail an auditor needs; `oauth/errors.ts` alone decides what the caller is told.

/** Problems with the HTTP request or its form parameters (RFC 6749 §3.2, §5.2). */
export type RequestRefusal =
  | { reason: "method_not_allowed"; method: string }
  | { reason: "unsupported_content_type" }
  | { reason: "body_too_large"; maxBytes: number }
  | { reason: "malformed_body" }
  | { reason: "duplicate_parameter"; name: string }
  | { reason: "grant_type_missing" }
  | { reason: "unsupported_grant_type" }
  | { reason: "assertion_missing" }
  | { reason: "assertion_too_large"; bytes: number; maxBytes: number }
  | { reason: "scope_parameter_malformed" }
  | { reason: "token_missing" }
  | { reason: "resource_parameter_invalid"; detail: string };

/** Client authentication (RFC 6749 §2.3, RFC 7523 §3 for client assertions). */
export type ClientRefusal =
  | { reason: "client_auth_missing" }
  | { reason: "client_auth_multiple_methods" }
  | { reason: "client_auth_malformed"; detail: string }
  | { reason: "client_unknown" }
  | { reason: "client_disabled" }
  | { reason: "client_secret_mismatch" }
  | { reason: "client_auth_method_not_allowed"; method: string }
  | { reason: "client_assertion_invalid"; detail: string }
  | { reason: "client_assertion_replayed" }
  | { reason: "client_not_authorized_for_grant" }
  | { reason: "client_resource_not_allowed"; resource: string };

/** The authenticated client is over its rate limit (http/rate-limit.ts). */
export type LimitRefusal = { reason: "rate_limited"; tier: string };

/** The ID-JAG's compact JWS structure and JOSE header (RFC 7515, RFC 8725, ID-JAG §3.1). */
export type StructureRefusal =
  | { reason: "jws_malformed"; detail: string }
  | { reason: "jwe_unsupported" }
  | { reason: "duplicate_json_member"; part: "header" | "payload" }
  | { reason: "typ_invalid"; typ: string | null }
  | { reason: "alg_not_allowed"; alg: string | null }
  | { reason: "crit_unsupported" };

/** Issuer trust and signature verification (RFC 7523 §3, ID-JAG §4.4.1). */
export type TrustRefusal =
  | { reason: "issuer_not_trusted" }
  | { reason: "issuer_is_self" }
  | { reason: "alg_not_allowed_for_issuer"; alg: string }
  | { reason: "tenant_mismatch" }
  | { reason: "kid_unknown"; kid: string | null }
  | { reason: "key_ambiguous" }
  | { reason: "signature_invalid" }
  | { reason: "jwks_unavailable"; detail: string };

/** Claims of the ID-JAG (ID-JAG §3.1, §4.4.1; EMA §5.1). */
export type ClaimRefusal =
  | { reason: "claim_missing"; claim: string }
  | { reason: "claim_type_invalid"; claim: string }
  | { reason: "aud_mismatch" }
  | { reason: "aud_multiple"; count: number }
  | { reason: "client_id_mismatch" }
  | { reason: "expired"; exp: number; now: number; skewSeconds: number }
  | { reason: "not_yet_valid"; nbf: number; now: number; skewSeconds: number }
  | { reason: "issued_in_future"; iat: number; now: number; skewSeconds: number }
  | { reason: "lifetime_too_long"; lifetime: number; max: number }
  | { reason: "jti_invalid" }
  | { reason: "cnf_unsupported" }
  | { reason: "authorization_details_unsupported" };

/** Resource and scope binding (RFC 8707, RFC 6749 §3.3, EMA §5.1). */
export type GrantRefusal =
  | { reason: "resource_invalid"; detail: string }
  | { reason: "resource_unknown" }
  | { reason: "resource_missing" }
  | { reason: "resource_ambiguous" }
  | { reason: "target_not_in_grant" }
  | { reason: "scope_malformed" }
  | { reason: "no_rule_allows" }
  | { reason: "scope_not_granted" }
  | { reason: "scope_empty" };

/** Outcomes of the SubjectShard check, and the server's own failures. */
export type StateRefusal =
  | { reason: "replayed" }
  | { reason: "subject_revoked"; revokedBefore: number }
  | { reason: "state_unavailable"; detail: string }
  | { reason: "config_unavailable"; detail: string };

export type Refusal =
  | RequestRefusal
  | ClientRefusal
  | LimitRefusal
  | StructureRefusal
  | TrustRefusal
  | ClaimRefusal
  | GrantRefusal
  | StateRefusal;

export type Reason = Refusal["reason"];
