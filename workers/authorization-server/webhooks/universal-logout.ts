// POST /logout/okta/{issuer-id}: Okta Universal Logout (reference §2.7, §8). Okta names a user and
// proves it is Okta with a signed bearer JWT; we raise the user's revoked_before to now, so every
// ID-JAG and access token issued so far is refused. Steps: the JWT (401), the body (400), single use
// of its jti (401), the subject (404), the revocation (204). Okta reads only the status code.
import type { TrustedIssuer } from "../../lib/kv-records";
import { ok, refuse, type Result } from "../../lib/result";
import { emailIndexKey, type SubjectRef } from "../../lib/revocation-mirror";
import { StoreUnavailableError } from "../../lib/store-error";
import { parseCompactJws } from "../assertion/jws";
import { verifySignature } from "../assertion/signature";
import { DEFAULT_ISSUER_ALGORITHMS } from "../assertion/trust";
import { loadPolicy } from "../config/policy-store";
import type { Env } from "../env";
import { endpointUrl } from "../http/endpoints";
import { resolveVerificationKey } from "../jwks/cache";
import { applyRevocations } from "../revocation/apply";
import { spendJtiOnce } from "../revocation/one-time";
import { checkLogoutClaims, checkLogoutHeader, parseLogoutBody, readBearer, type LogoutClaims, type LogoutExpectations, type LogoutSubject } from "./logout-request";
import { mediaType, readCappedText, refuseWebhook, type WebhookRefusal } from "./responses";

/** `{"sub_id": {...}}` is a few hundred bytes. */
export const MAX_LOGOUT_BODY_BYTES = 4 * 1024;
/** The audit event type of a Universal Logout revocation. */
const LOGOUT_EVENT_TYPE = "global_token_revocation";

type Step<T> = Result<T, WebhookRefusal>;

export async function handleUniversalLogout(request: Request, env: Env, _ctx: ExecutionContext, requestId: string, issuerId?: string): Promise<Response> {
  const now = Math.floor(Date.now() / 1000);
  const outcome = await logOut(request, env, now, requestId, issuerId);
  if (outcome.ok) return new Response(null, { status: 204, headers: { "Cache-Control": "no-store" } });
  return refuseWebhook("universal_logout", requestId, outcome.error);
}

async function logOut(request: Request, env: Env, now: number, requestId: string, issuerId: string | undefined): Promise<Step<true>> {
  if (request.method !== "POST") return refuse({ reason: "method_not_allowed", method: request.method.slice(0, 16) });
  const policy = await loadPolicy(env.CONFIG, env.ISSUER, now);
  if (!policy.ok) return refuse({ reason: "config_unavailable" });
  const issuer = issuerId === undefined ? undefined : policy.value.issuersById.get(issuerId);
  const clientId = issuer?.revocation?.universal_logout?.client_id;
  // One answer for "no such id" and "id without Universal Logout": the URL space reveals no tenants.
  if (issuer === undefined || issuerId === undefined || clientId === undefined) return refuse({ reason: "issuer_unknown" });

  // 1. The bearer JWT, signed by the issuer's own keys, for this endpoint and our app.
  const claims = await authenticate(request, env, issuer, { issuer: issuer.issuer, audience: endpointUrl(env.ISSUER, "universalLogout", issuerId), clientId }, now);
  if (!claims.ok) return claims;

  // 2. The body names the user.
  if (mediaType(request) !== "application/json") return refuse({ reason: "unsupported_content_type" });
  const text = await readCappedText(request, MAX_LOGOUT_BODY_BYTES);
  if (!text.ok) return text;
  const named = parseLogoutBody(text.value, issuer.issuer);
  if (!named.ok) return named;

  // 3. Single use: a logout JWT captured in transit must not be replayed, perhaps with another
  // user in the (unsigned) body, to move someone's revoked_before forward again.
  const fresh = await spendJti(env, issuer.issuer, claims.value, now);
  if (!fresh.ok) return fresh;

  // 4–5. Whom, then the revocation itself; 204 only once the SubjectShard committed it.
  const subject = await resolveSubject(env, issuer, named.value);
  if (!subject.ok) return subject;
  try {
    await applyRevocations(env, [{ subject: subject.value, eventTime: now, channel: "universal_logout", eventId: claims.value.jti, eventType: LOGOUT_EVENT_TYPE }], now, requestId);
  } catch (error) {
    // 503, not the 422 ("cannot log out") Okta also understands: 422 says the request can never
    // succeed, while this is our storage failing for now; Okta does not retry either answer, and
    // 503 is what every other revocation channel answers for "not stored" (design.md).
    if (error instanceof StoreUnavailableError) return refuse({ reason: "store_unavailable", store: error.store });
    throw error;
  }
  return ok(true);
}

/** The JWT's structure, header and claims (cheap, no I/O), then the key and the signature. */
async function authenticate(request: Request, env: Env, issuer: TrustedIssuer, expected: LogoutExpectations, now: number): Promise<Step<LogoutClaims>> {
  const bearer = readBearer(request.headers.get("authorization"));
  if (!bearer.ok) return bearer;
  const jws = parseCompactJws(bearer.value);
  if (!jws.ok) return refuse({ reason: "token_malformed", detail: jws.error.reason });
  const header = checkLogoutHeader(jws.value.header, issuer.algorithms ?? DEFAULT_ISSUER_ALGORITHMS);
  if (!header.ok) return header;
  // Refusing on unverified claims trusts nothing; it only spares a JWKS fetch for junk.
  const claims = checkLogoutClaims(jws.value.payload, expected, now);
  if (!claims.ok) return claims;
  // Keys only from the issuer's configured or discovered JWKS, never from the token's headers.
  const key = await resolveVerificationKey(issuer, header.value, { kv: env.CONFIG, fetch, now });
  if (!key.ok) {
    const e = key.error;
    if (e.reason === "jwks_unavailable") return refuse({ reason: "jwks_unavailable", detail: e.detail });
    if (e.reason === "kid_unknown") return refuse({ reason: "kid_unknown", kid: e.kid });
    return refuse({ reason: e.reason === "key_ambiguous" ? "key_ambiguous" : "signature_invalid" });
  }
  const signature = await verifySignature(jws.value.compact, key.value, header.value.alg);
  if (!signature.ok) return refuse({ reason: "signature_invalid" });
  return claims;
}

/** Marks the jti used in the issuer's logout shard until the token could no longer be accepted. */
async function spendJti(env: Env, iss: string, claims: LogoutClaims, now: number): Promise<Step<true>> {
  let fresh: boolean;
  try {
    fresh = await spendJtiOnce(env, "logout", iss, claims.jti, claims.exp, now);
  } catch {
    // Without the ledger we cannot tell a replay from a first delivery: fail closed.
    return refuse({ reason: "store_unavailable", store: "subject_shard" });
  }
  return fresh ? ok(true) : refuse({ reason: "jti_reused" });
}

/**
 * The subject to revoke. An iss_sub names it directly; an email goes through the index the
 * SubjectShard writes when the person first redeems an ID-JAG, so someone who never did is 404.
 */
async function resolveSubject(env: Env, issuer: TrustedIssuer, named: LogoutSubject): Promise<Step<SubjectRef>> {
  const tenant = issuer.tenant !== undefined ? { tenant: issuer.tenant } : {};
  if (named.format === "iss_sub") return ok({ iss: issuer.issuer, ...tenant, sub: named.sub });
  let stored: string | null;
  try {
    stored = await env.CONFIG.get(await emailIndexKey(issuer.issuer, named.email), "text");
  } catch {
    return refuse({ reason: "store_unavailable", store: "kv" });
  }
  const entry = stored === null ? undefined : parseJson(stored);
  if (!isIndexEntry(entry, issuer)) return refuse({ reason: "subject_unknown" });
  return ok({ iss: entry.iss, ...(entry.tenant !== undefined && { tenant: entry.tenant }), sub: entry.sub });
}

/** An index value of this issuer (and, for a tenant-pinned issuer, of its tenant). */
function isIndexEntry(value: unknown, issuer: TrustedIssuer): value is SubjectRef {
  if (typeof value !== "object" || value === null) return false;
  const { iss, tenant, sub } = value as Record<string, unknown>;
  if (iss !== issuer.issuer || typeof sub !== "string" || sub.length === 0) return false;
  if (tenant !== undefined && typeof tenant !== "string") return false;
  return issuer.tenant === undefined || tenant === issuer.tenant;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
