// The one place that turns a refusal into what the caller sees (RFC 6749 §5.2 JSON). A reason marked
// `public` names the broken rule in `error_description`; the others get their error code's generic
// text, so client authentication and issuer trust cannot be probed (design.md, "Errors"). The
// precise reason always goes to the audit event, which the response's request id finds.
import type { Reason, Refusal } from "./refusal";
import { RETRY_AFTER_SECONDS } from "../http/rate-limit";

type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "invalid_scope"
  | "invalid_target"
  | "temporarily_unavailable"
  | "server_error";

interface WireError {
  error: OAuthErrorCode;
  status: number;
  /** Wording that names the rule; absent → the generic wording of `error`. */
  public?: string;
}

const GENERIC: Record<OAuthErrorCode, string> = {
  invalid_request: "The request is malformed.",
  invalid_client: "Client authentication failed.",
  invalid_grant: "The assertion is not acceptable.",
  unauthorized_client: "The client is not authorized to use this grant.",
  unsupported_grant_type: "The grant type is not supported.",
  invalid_scope: "The requested scope is not available.",
  invalid_target: "The requested resource is not available for this grant.",
  temporarily_unavailable: "The server cannot decide right now; retry shortly.",
  server_error: "The server could not complete the request.",
};

export const REASONS = {
  method_not_allowed: { error: "invalid_request", status: 405, public: "Use POST." },
  unsupported_content_type: { error: "invalid_request", status: 400, public: "The body must be application/x-www-form-urlencoded." },
  body_too_large: { error: "invalid_request", status: 413, public: "The request body is too large." },
  malformed_body: { error: "invalid_request", status: 400, public: "The form body could not be parsed." },
  duplicate_parameter: { error: "invalid_request", status: 400, public: "A parameter was sent more than once." },
  grant_type_missing: { error: "invalid_request", status: 400, public: "grant_type is missing." },
  unsupported_grant_type: { error: "unsupported_grant_type", status: 400 },
  assertion_missing: { error: "invalid_request", status: 400, public: "assertion is missing." },
  assertion_too_large: { error: "invalid_request", status: 400, public: "assertion is too large." },
  token_missing: { error: "invalid_request", status: 400, public: "token is missing." },
  scope_parameter_malformed: { error: "invalid_scope", status: 400, public: "scope is malformed." },
  resource_parameter_invalid: { error: "invalid_target", status: 400, public: "resource must be an absolute URI without a fragment." },

  client_auth_missing: { error: "invalid_client", status: 401 },
  client_auth_multiple_methods: { error: "invalid_request", status: 400, public: "Use exactly one client authentication method." },
  client_auth_malformed: { error: "invalid_client", status: 401 },
  client_unknown: { error: "invalid_client", status: 401 },
  client_disabled: { error: "invalid_client", status: 401 },
  client_secret_mismatch: { error: "invalid_client", status: 401 },
  client_auth_method_not_allowed: { error: "invalid_client", status: 401 },
  client_assertion_invalid: { error: "invalid_client", status: 401 },
  client_assertion_replayed: { error: "invalid_client", status: 401 },
  client_not_authorized_for_grant: { error: "unauthorized_client", status: 400 },
  client_resource_not_allowed: { error: "invalid_target", status: 400 },
  // RFC 6749 has no rate-limit code; temporarily_unavailable ("overloaded") is the registered one,
  // and 429 + Retry-After tells any HTTP client what to do.
  rate_limited: { error: "temporarily_unavailable", status: 429, public: "Too many requests from this client; retry after the Retry-After delay." },

  jws_malformed: { error: "invalid_grant", status: 400, public: "The assertion is not a well-formed compact JWS." },
  jwe_unsupported: { error: "invalid_grant", status: 400, public: "Encrypted assertions are not supported." },
  duplicate_json_member: { error: "invalid_grant", status: 400, public: "The assertion repeats a JSON member name." },
  typ_invalid: { error: "invalid_grant", status: 400, public: "The assertion typ must be oauth-id-jag+jwt." },
  alg_not_allowed: { error: "invalid_grant", status: 400, public: "The assertion alg is not allowed." },
  crit_unsupported: { error: "invalid_grant", status: 400, public: "The assertion has a crit header this server does not understand." },

  issuer_not_trusted: { error: "invalid_grant", status: 400 },
  issuer_is_self: { error: "invalid_grant", status: 400 },
  // Generic, unlike alg_not_allowed: naming it would confirm that the issuer is trusted.
  alg_not_allowed_for_issuer: { error: "invalid_grant", status: 400 },
  tenant_mismatch: { error: "invalid_grant", status: 400 },
  kid_unknown: { error: "invalid_grant", status: 400 },
  key_ambiguous: { error: "invalid_grant", status: 400 },
  signature_invalid: { error: "invalid_grant", status: 400 },
  jwks_unavailable: { error: "temporarily_unavailable", status: 503 },

  claim_missing: { error: "invalid_grant", status: 400, public: "The assertion lacks a required claim." },
  claim_type_invalid: { error: "invalid_grant", status: 400, public: "An assertion claim has the wrong type." },
  aud_mismatch: { error: "invalid_grant", status: 400, public: "The assertion audience is not this authorization server." },
  aud_multiple: { error: "invalid_grant", status: 400, public: "The assertion must have exactly one audience." },
  client_id_mismatch: { error: "invalid_grant", status: 400, public: "The assertion was issued to another client." },
  expired: { error: "invalid_grant", status: 400, public: "The assertion has expired." },
  not_yet_valid: { error: "invalid_grant", status: 400, public: "The assertion is not valid yet." },
  issued_in_future: { error: "invalid_grant", status: 400, public: "The assertion iat is in the future." },
  lifetime_too_long: { error: "invalid_grant", status: 400, public: "The assertion lifetime is too long." },
  jti_invalid: { error: "invalid_grant", status: 400, public: "The assertion jti is empty or too long." },
  cnf_unsupported: { error: "invalid_grant", status: 400, public: "Sender-constrained assertions (cnf) are not supported." },
  authorization_details_unsupported: { error: "invalid_grant", status: 400, public: "authorization_details is not supported." },

  resource_invalid: { error: "invalid_grant", status: 400, public: "The assertion resource is not an absolute URI without a fragment." },
  resource_unknown: { error: "invalid_grant", status: 400, public: "The assertion resource is not served by this authorization server." },
  resource_missing: { error: "invalid_grant", status: 400, public: "The assertion names no resource and there is no default." },
  resource_ambiguous: { error: "invalid_target", status: 400, public: "The assertion names several resources; send the resource parameter." },
  target_not_in_grant: { error: "invalid_target", status: 400, public: "The resource parameter is not among the assertion's resources." },
  scope_malformed: { error: "invalid_grant", status: 400, public: "The assertion scope is malformed." },
  no_rule_allows: { error: "invalid_grant", status: 400, public: "No policy rule grants access to this resource." },
  scope_not_granted: { error: "invalid_grant", status: 400, public: "Policy allows none of the assertion's scopes." },
  scope_empty: { error: "invalid_scope", status: 400, public: "No requested scope can be granted." },

  replayed: { error: "invalid_grant", status: 400, public: "The assertion has already been used." },
  subject_revoked: { error: "invalid_grant", status: 400, public: "Access for this subject has been revoked." },
  state_unavailable: { error: "temporarily_unavailable", status: 503 },
  config_unavailable: { error: "temporarily_unavailable", status: 503 },
} as const satisfies Record<Reason, WireError>;

const NO_STORE = { "Cache-Control": "no-store", Pragma: "no-cache" } as const;

/** Headers every token-endpoint answer carries, success or error (RFC 6749 §5.1). */
export function jsonNoStore(body: unknown, status: number, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json;charset=UTF-8", ...NO_STORE, ...extra },
  });
}

/**
 * The RFC 6749 §5.2 answer for a refusal. Every 401 carries a Basic challenge: RFC 6749 requires it
 * when Basic was used, and HTTP (RFC 9110 §15.5.2) requires some challenge on any 401.
 */
export function oauthErrorResponse(refusal: Refusal): Response {
  const wire: WireError = REASONS[refusal.reason];
  const headers: Record<string, string> = {};
  if (wire.status === 401) headers["WWW-Authenticate"] = 'Basic realm="ema-edge", charset="UTF-8"';
  if (wire.status === 405) headers.Allow = "POST";
  if (wire.status === 503) headers["Retry-After"] = "5";
  if (wire.status === 429) headers["Retry-After"] = String(RETRY_AFTER_SECONDS);
  return jsonNoStore({ error: wire.error, error_description: wire.public ?? GENERIC[wire.error] }, wire.status, headers);
}

/** The bare 500 for an unexpected exception: nothing of the exception reaches the caller. */
export function serverErrorResponse(): Response {
  return jsonNoStore({ error: "server_error", error_description: GENERIC.server_error }, 500);
}

/** Whether a reason's wording is public; the tests pin this set. */
export const isPublicReason = (reason: Reason): boolean => "public" in REASONS[reason];
