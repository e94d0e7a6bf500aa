// The RFC 8693 token-exchange request for an ID-JAG (spec notes §2.3; ID-JAG §4.3), read from
// form parameters into a narrower type. Pure: no key, no clock, no I/O. Client authentication
// (client-auth.ts) and the subject token's verification (id-token.ts) come after.
import { ok, refuse, type Result } from "../lib/result";
import type { Reason } from "./errors";
import type { Params } from "./form";

export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
export const ID_JAG_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id-jag";
export const ID_TOKEN_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token";
/** RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
const MAX_SCOPE_LENGTH = 1024;
const MAX_RESOURCE_LENGTH = 2048;

export interface ExchangeRequest {
  subjectToken: string;
  audience: string;
  resource?: string;
  /** Space-separated, duplicates removed, order kept. */
  scope?: string;
}

type ExchangeRefusal = Extract<
  Reason,
  | "grant_type_missing"
  | "unsupported_grant_type"
  | "requested_token_type_unsupported"
  | "subject_token_missing"
  | "subject_token_type_unsupported"
  | "actor_token_unsupported"
  | "audience_missing"
  | "audience_not_allowed"
  | "resource_invalid"
  | "scope_malformed"
>;

/** `allowedAudience` is EMA_EDGE_ISSUER: the one authorization server this IdP mints ID-JAGs for. */
export function readExchangeRequest(params: Params, allowedAudience: string): Result<ExchangeRequest, ExchangeRefusal> {
  const grantType = params.get("grant_type");
  if (grantType === undefined) return refuse("grant_type_missing");
  if (grantType !== TOKEN_EXCHANGE_GRANT) return refuse("unsupported_grant_type");
  // RFC 8693 makes requested_token_type optional; ID-JAG §4.3 requires it, and it is all we issue.
  if (params.get("requested_token_type") !== ID_JAG_TOKEN_TYPE) return refuse("requested_token_type_unsupported");
  const subjectToken = params.get("subject_token");
  if (subjectToken === undefined) return refuse("subject_token_missing");
  // SAML assertions and refresh tokens are MAYs for an IdP; this one only issues ID tokens.
  if (params.get("subject_token_type") !== ID_TOKEN_TOKEN_TYPE) return refuse("subject_token_type_unsupported");
  // The draft defines no processing for an actor; accepting one silently would drop it from the grant.
  if (params.has("actor_token") || params.has("actor_token_type")) return refuse("actor_token_unsupported");

  const audience = params.get("audience");
  if (audience === undefined) return refuse("audience_missing");
  // Exactly, as ema-edge compares `aud`: an ID-JAG for any other server would be a grant we never meant.
  if (audience !== allowedAudience) return refuse("audience_not_allowed");

  const request: ExchangeRequest = { subjectToken, audience };
  const resource = params.get("resource");
  if (resource !== undefined) {
    if (!isResourceUri(resource)) return refuse("resource_invalid");
    request.resource = resource;
  }
  const scope = params.get("scope");
  if (scope !== undefined) {
    const normalized = normalizeScope(scope);
    if (normalized === undefined) return refuse("scope_malformed");
    request.scope = normalized;
  }
  return ok(request);
}

/** RFC 8707 §2: an absolute URI without a fragment (http(s) here: MCP servers are). */
export function isResourceUri(value: string): boolean {
  if (value.length > MAX_RESOURCE_LENGTH) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (url.protocol === "http:" || url.protocol === "https:") && !value.includes("#");
}

/** Tokens separated by single or repeated spaces → one space each, duplicates dropped; undefined if malformed. */
export function normalizeScope(scope: string): string | undefined {
  if (scope.length > MAX_SCOPE_LENGTH) return undefined;
  const tokens = scope.split(" ").filter((t) => t !== "");
  if (tokens.length === 0 || !tokens.every((t) => SCOPE_TOKEN.test(t))) return undefined;
  return [...new Set(tokens)].join(" ");
}
