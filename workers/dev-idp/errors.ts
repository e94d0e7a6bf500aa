// The one place that turns a refusal into the OAuth JSON error a caller sees (RFC 6749 §5.2,
// RFC 8693 §2.2.2). This is a development IdP, so descriptions name the broken rule, except for
// client authentication, which stays generic like a real IdP's so tests meet the real behaviour.

type OAuthErrorCode = "invalid_request" | "invalid_client" | "invalid_grant" | "invalid_target" | "invalid_scope" | "unsupported_grant_type" | "access_denied" | "not_found";

interface WireError {
  error: OAuthErrorCode;
  status: number;
  description: string;
}

export const REASONS = {
  method_not_allowed: { error: "invalid_request", status: 405, description: "Use POST." },
  unsupported_content_type: { error: "invalid_request", status: 400, description: "The body must be application/x-www-form-urlencoded." },
  body_too_large: { error: "invalid_request", status: 413, description: "The request body is too large." },
  malformed_body: { error: "invalid_request", status: 400, description: "The body could not be parsed." },
  duplicate_parameter: { error: "invalid_request", status: 400, description: "A parameter was sent more than once." },

  client_auth_multiple_methods: { error: "invalid_request", status: 400, description: "Use exactly one client authentication method." },
  client_auth_failed: { error: "invalid_client", status: 401, description: "Client authentication failed." },

  grant_type_missing: { error: "invalid_request", status: 400, description: "grant_type is missing." },
  unsupported_grant_type: { error: "unsupported_grant_type", status: 400, description: "Only urn:ietf:params:oauth:grant-type:token-exchange is supported." },
  requested_token_type_unsupported: { error: "invalid_request", status: 400, description: "requested_token_type must be urn:ietf:params:oauth:token-type:id-jag." },
  subject_token_type_unsupported: { error: "invalid_request", status: 400, description: "subject_token_type must be urn:ietf:params:oauth:token-type:id_token." },
  subject_token_missing: { error: "invalid_request", status: 400, description: "subject_token is missing." },
  actor_token_unsupported: { error: "invalid_request", status: 400, description: "actor_token is not supported." },
  audience_missing: { error: "invalid_request", status: 400, description: "audience is missing." },
  audience_not_allowed: { error: "invalid_target", status: 400, description: "audience is not an authorization server this IdP issues ID-JAGs for." },
  resource_invalid: { error: "invalid_target", status: 400, description: "resource must be an absolute http(s) URI without a fragment." },
  scope_malformed: { error: "invalid_scope", status: 400, description: "scope is malformed." },

  subject_token_malformed: { error: "invalid_grant", status: 400, description: "subject_token is not a compact JWS." },
  subject_token_typ_invalid: { error: "invalid_grant", status: 400, description: "subject_token is not an ID token (typ)." },
  subject_token_key_unknown: { error: "invalid_grant", status: 400, description: "subject_token was not signed with this IdP's key." },
  subject_token_signature_invalid: { error: "invalid_grant", status: 400, description: "subject_token signature is invalid." },
  subject_token_issuer_mismatch: { error: "invalid_grant", status: 400, description: "subject_token was not issued by this IdP." },
  subject_token_audience_mismatch: { error: "invalid_grant", status: 400, description: "subject_token was not issued to the authenticated client." },
  subject_token_claim_invalid: { error: "invalid_grant", status: 400, description: "subject_token lacks a valid sub, iat or exp." },
  subject_token_expired: { error: "invalid_grant", status: 400, description: "subject_token has expired." },
  subject_token_issued_in_future: { error: "invalid_grant", status: 400, description: "subject_token was issued in the future." },
  user_unknown: { error: "invalid_grant", status: 400, description: "subject_token names no user of this IdP." },
  user_deactivated: { error: "invalid_grant", status: 400, description: "The user is deactivated." },
  session_cleared: { error: "invalid_grant", status: 400, description: "The user's sessions were cleared after this login; log in again." },

  login_username_missing: { error: "invalid_request", status: 400, description: "username is missing." },
  login_user_unknown: { error: "invalid_request", status: 400, description: "No such user." },
  login_client_unknown: { error: "invalid_request", status: 400, description: "No such client_id." },
  login_user_deactivated: { error: "access_denied", status: 403, description: "The user is deactivated." },

  admin_user_unknown: { error: "not_found", status: 404, description: "No such user." },
  admin_group_missing: { error: "invalid_request", status: 400, description: "group is missing." },
  admin_group_not_member: { error: "invalid_request", status: 400, description: "The user is not in that group." },
  not_found: { error: "not_found", status: 404, description: "No such endpoint." },
} as const satisfies Record<string, WireError>;

export type Reason = keyof typeof REASONS;

/** OAuth JSON, `Cache-Control: no-store`; invalid_client gets its RFC 6749 §5.2 Basic challenge. */
export function errorResponse(reason: Reason): Response {
  const wire: WireError = REASONS[reason];
  const headers: Record<string, string> = { "Content-Type": "application/json", "Cache-Control": "no-store", Pragma: "no-cache" };
  if (wire.error === "invalid_client") headers["WWW-Authenticate"] = 'Basic realm="dev-idp", charset="UTF-8"';
  if (wire.status === 405) headers.Allow = "POST";
  return new Response(JSON.stringify({ error: wire.error, error_description: wire.description }), { status: wire.status, headers });
}

/** A JSON answer that must not be cached (tokens, state). */
export function jsonNoStore(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", "Cache-Control": "no-store", Pragma: "no-cache" } });
}
