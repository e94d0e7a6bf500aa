// POST /oauth2/introspect (RFC 7662) for registered clients and resource servers. Anything not
// valid and visible to the caller reads `{"active": false}` and nothing more (§2.2), whatever the
// cause; the cause goes to the audit line. Also the request reading both RFC 7662 and RFC 7009 share.
import { ok, refuse, type Result } from "../../lib/result";
import { StoreUnavailableError } from "../../lib/store-error";
import { spendClientAssertion, stateUnavailable } from "../client/assertion-replay";
import { authenticateClient, type AuthenticatedClient } from "../client/authenticate";
import { loadClient } from "../config/client-store";
import type { Env } from "../env";
import { endpointUrl } from "../http/endpoints";
import { readForm } from "../http/form";
import { jsonNoStore, oauthErrorResponse } from "../oauth/errors";
import type { Refusal } from "../oauth/refusal";
import type { TokenState } from "../revocation/ledger";
import { addressSubject } from "../revocation/shard-key";
import { accessTokenKey, inspectAccessToken, introspectionBody, mayIntrospect } from "../tokens/inspect";
import { loadSigningKeys } from "../tokens/signing-keys";

/** A refusal of an introspection or revocation request; `token_missing` is not in oauth/refusal.ts yet. */
export type EndpointRefusal = Refusal | { reason: "token_missing" };

export interface TokenEndpointRequest extends AuthenticatedClient {
  token: string;
  tokenTypeHint?: string;
}

/** What introspection and revocation log (never the token): the caller, the outcome and its cause. */
export interface EndpointAudit {
  type: "ema.introspection" | "ema.revocation";
  request_id: string;
  time: number;
  outcome: "refused" | "active" | "inactive" | "revoked" | "ignored";
  reason?: string;
  detail?: Record<string, unknown>;
  client_id?: string;
  client_auth_method?: string;
  /** Only once the token's signature has verified. */
  token_client_id?: string;
  iss?: string;
  tenant?: string;
  sub?: string;
  access_token_jti?: string;
  [extra: string]: unknown;
}

export async function handleIntrospection(request: Request, env: Env, _ctx: ExecutionContext, requestId: string, _issuerId?: string): Promise<Response> {
  const now = Math.floor(Date.now() / 1000);
  const audit: EndpointAudit = { type: "ema.introspection", request_id: requestId, time: now, outcome: "refused" };
  const result = await guarded(() => introspect(request, env, now, audit), audit);
  if (!result.ok) return refusalResponse(result.error, audit);
  console.log(JSON.stringify(audit));
  return jsonNoStore(result.value, 200);
}

async function introspect(request: Request, env: Env, now: number, audit: EndpointAudit): Promise<Result<Record<string, unknown>, EndpointRefusal>> {
  const read = await readTokenRequest(request, env, now, audit);
  if (!read.ok) return read;
  const inactive = (reason: string) => {
    Object.assign(audit, { outcome: "inactive", reason });
    return ok({ active: false });
  };

  const keys = await loadSigningKeys(env.AT_SIGNING_KEYS);
  const inspected = await inspectAccessToken(read.value.token, keys, env.ISSUER, now);
  if (!inspected.ok) return inactive(inspected.error.reason);
  const claims = inspected.value;
  Object.assign(audit, { token_client_id: claims.client_id, iss: claims.idp, tenant: claims.tenant, sub: claims.sub, access_token_jti: claims.jti });
  // Before the shard call: another party's token costs no Durable Object round trip.
  if (!mayIntrospect(claims, read.value.client)) return inactive("not_visible");

  let state: TokenState;
  try {
    const address = await addressSubject({ iss: claims.idp, tenant: claims.tenant, sub: claims.sub });
    const shard = env.SUBJECT_SHARD.get(env.SUBJECT_SHARD.idFromName(address.shardName));
    state = await shard.tokenState({ subjectKey: address.subjectKey, tokenKey: await accessTokenKey(claims.jti), iat: claims.iat });
  } catch (error) {
    return stateUnavailable(error); // fail closed: never active without the revocation state
  }
  if (!state.active) return inactive(state.reason);
  audit.outcome = "active";
  return ok(introspectionBody(claims));
}

/**
 * The request half both endpoints share: a capped form, `token` present, the caller authenticated
 * (RFC 7662 §2.1, RFC 7009 §2.1) and, for private_key_jwt, its assertion spent (RFC 7523 §3).
 */
export async function readTokenRequest(request: Request, env: Env, now: number, audit: EndpointAudit): Promise<Result<TokenEndpointRequest, EndpointRefusal>> {
  const form = await readForm(request);
  if (!form.ok) return form;
  const params = form.value;
  const token = params.get("token");
  if (token === undefined) return refuse({ reason: "token_missing" });

  const authenticated = await authenticateClient({
    params,
    authorization: request.headers.get("authorization"),
    issuer: env.ISSUER,
    tokenEndpoint: endpointUrl(env.ISSUER, "token"),
    now,
    loadClient: (clientId) => loadClient(env.CONFIG, clientId),
  });
  if (!authenticated.ok) return authenticated;
  audit.client_id = authenticated.value.client.client_id;
  audit.client_auth_method = authenticated.value.method;
  const replayKey = authenticated.value.assertionReplayKey;
  if (replayKey !== undefined) {
    const fresh = await spendClientAssertion(env, authenticated.value.client.client_id, replayKey, now);
    if (!fresh.ok) return fresh;
  }
  const hint = params.get("token_type_hint");
  return ok({ ...authenticated.value, token, ...(hint !== undefined && { tokenTypeHint: hint }) });
}

/** Runs `work`; a KV outage becomes config_unavailable (503), anything else is audited and rethrown. */
export async function guarded<T>(work: () => Promise<Result<T, EndpointRefusal>>, audit: EndpointAudit): Promise<Result<T, EndpointRefusal>> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof StoreUnavailableError) return refuse({ reason: "config_unavailable", detail: error.store });
    console.log(JSON.stringify({ ...audit, reason: "server_error", detail: { error: error instanceof Error ? error.name : "unknown" } }));
    throw error;
  }
}

/** Audits a refusal and answers it in RFC 6749 §5.2 form (401 invalid_client, 400, 503…). */
export function refusalResponse(refusal: EndpointRefusal, audit: EndpointAudit): Response {
  const { reason, ...detail } = refusal;
  Object.assign(audit, { outcome: "refused", reason }, Object.keys(detail).length > 0 && { detail });
  console.log(JSON.stringify(audit));
  if (refusal.reason === "token_missing") return jsonNoStore({ error: "invalid_request", error_description: "token is missing." }, 400);
  return oauthErrorResponse(refusal);
}
