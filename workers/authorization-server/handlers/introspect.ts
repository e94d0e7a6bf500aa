// POST /oauth2/introspect (RFC 7662) for registered clients and resource servers. Anything not
// valid and visible to the caller reads `{"active": false}` and nothing more (§2.2), whatever the
// cause; the cause goes to the audit line.
import { ok, type Result } from "../../lib/result";
import { stateUnavailable } from "../client/assertion-replay";
import type { Env } from "../env";
import { jsonNoStore } from "../oauth/errors";
import type { TokenState } from "../revocation/ledger";
import { addressSubject } from "../revocation/shard-key";
import { accessTokenKey, inspectAccessToken, introspectionBody, mayIntrospect } from "../tokens/inspect";
import { loadSigningKeys } from "../tokens/signing-keys";
import { guarded, readTokenRequest, refusalResponse, type EndpointAudit, type EndpointRefusal } from "./token-request";

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
