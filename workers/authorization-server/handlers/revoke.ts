// POST /oauth2/revoke (RFC 7009): a client revokes one of its own access tokens. The token's jti
// goes on its subject's SubjectShard deny list (what introspection reads), then into the KV mirror
// (what offline verifiers read). We issue no refresh tokens, so every hint means an access token.
import { ok, refuse, type Result } from "../../lib/result";
import { stateUnavailable } from "../client/assertion-replay";
import type { Env } from "../env";
import { mirrorDeniedToken } from "../revocation/apply";
import { addressSubject } from "../revocation/shard-key";
import { accessTokenKey, inspectAccessToken } from "../tokens/inspect";
import { loadSigningKeys } from "../tokens/signing-keys";
import { guarded, readTokenRequest, refusalResponse, type EndpointAudit, type EndpointRefusal } from "./token-request";

/** Verifiers accept a token up to 60 s past exp (lib/verifier.ts); the deny entry outlives that. */
export const DENY_RETENTION_AFTER_EXP_SECONDS = 60;

export async function handleRevocation(request: Request, env: Env, _ctx: ExecutionContext, requestId: string, _issuerId?: string): Promise<Response> {
  const now = Math.floor(Date.now() / 1000);
  const audit: EndpointAudit = { type: "ema.revocation", channel: "token_revocation", event_id: requestId, request_id: requestId, time: now, outcome: "refused" };
  const result = await guarded(() => revoke(request, env, now, audit), audit);
  if (!result.ok) return refusalResponse(result.error, audit);
  console.log(JSON.stringify(audit));
  // §2.2: 200 whether or not there was anything to revoke; the body is ignored.
  return new Response(null, { status: 200, headers: { "Cache-Control": "no-store" } });
}

async function revoke(request: Request, env: Env, now: number, audit: EndpointAudit): Promise<Result<true, EndpointRefusal>> {
  const read = await readTokenRequest(request, env, now, audit);
  if (!read.ok) return read;
  if (read.value.tokenTypeHint !== undefined) audit.token_type_hint = read.value.tokenTypeHint.slice(0, 32);
  // §2.2: an invalid, expired or foreign token is answered like a revoked one. Telling the caller
  // that another client's token is valid (as an error would) would make this a validity oracle.
  const ignored = (reason: string) => {
    Object.assign(audit, { outcome: "ignored", reason });
    return ok(true as const);
  };

  const keys = await loadSigningKeys(env.AT_SIGNING_KEYS);
  const inspected = await inspectAccessToken(read.value.token, keys, env.ISSUER, now);
  if (!inspected.ok) return ignored(inspected.error.reason);
  const claims = inspected.value;
  Object.assign(audit, { token_client_id: claims.client_id, iss: claims.idp, tenant: claims.tenant, sub: claims.sub, access_token_jti: claims.jti });
  if (claims.client_id !== read.value.client.client_id) return ignored("not_owner");

  // The shard first: it is authoritative, and a failure there must not leave a mirror-only denial
  // that introspection would contradict. §2.2.1: 503 tells the client the token still exists.
  try {
    const address = await addressSubject({ iss: claims.idp, tenant: claims.tenant, sub: claims.sub });
    const shard = env.SUBJECT_SHARD.get(env.SUBJECT_SHARD.idFromName(address.shardName));
    await shard.denyToken(await accessTokenKey(claims.jti), claims.exp + DENY_RETENTION_AFTER_EXP_SECONDS, now);
  } catch (error) {
    return stateUnavailable(error);
  }
  // Without the mirror entry offline verifiers keep accepting the token, so the client is asked to
  // retry (denyToken is idempotent) rather than told it is done.
  try {
    await mirrorDeniedToken(env, claims.jti, claims.exp, now);
  } catch {
    audit.denied_in_shard = true;
    return refuse({ reason: "state_unavailable", detail: "revocation_mirror" });
  }
  Object.assign(audit, { outcome: "revoked", received_at: now, effective: now, mirrored: true });
  return ok(true);
}
