// Reading one of our own access tokens back, for introspection (RFC 7662) and revocation
// (RFC 7009): the same checks MCP servers run (lib/verifier.ts) against our published keys, minus
// the audience, which introspection replaces with who may see the token. Revocation state is the
// caller's (SubjectShard); this module does no I/O.
import { createLocalJWKSet, type JWTVerifyGetKey } from "jose";
import { sha256Base64Url } from "../../lib/digest";
import type { ClientRecord } from "../../lib/kv-records";
import type { Result } from "../../lib/result";
import { verifyAccessToken, type AccessTokenClaims, type TokenDefect } from "../../lib/verifier";
import type { SigningKeys } from "./signing-keys";

export type { AccessTokenClaims, TokenDefect };

// One key set per loaded SigningKeys (itself parsed once per isolate and secret).
const keySets = new WeakMap<SigningKeys, JWTVerifyGetKey>();

function ownKeySet(keys: SigningKeys): JWTVerifyGetKey {
  let set = keySets.get(keys);
  if (!set) keySets.set(keys, (set = createLocalJWKSet(JSON.parse(keys.jwksJson))));
  return set;
}

/**
 * Verifies `token` as an access token we issued and that is unexpired at `now`: signed with a key
 * we publish, `typ` at+jwt, `iss` our issuer. No clock tolerance: the clock that minted it is ours.
 */
export function inspectAccessToken(token: string, keys: SigningKeys, issuer: string, now: number): Promise<Result<AccessTokenClaims, TokenDefect>> {
  return verifyAccessToken(token, ownKeySet(keys), { issuer, clockToleranceSeconds: 0 }, now);
}

/**
 * Whether `caller` may learn about the token (RFC 7662 §2.2, §4: no scanning of other parties'
 * tokens): the client it was issued to, or a resource server registered for its audience. A client
 * without `allowed_resources` sees only its own tokens.
 */
export function mayIntrospect(claims: Pick<AccessTokenClaims, "client_id" | "aud">, caller: Pick<ClientRecord, "client_id" | "allowed_resources">): boolean {
  if (claims.client_id === caller.client_id) return true;
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  return caller.allowed_resources !== undefined && audiences.some((aud) => caller.allowed_resources!.includes(aud));
}

/**
 * The token's key in the SubjectShard deny list. The same string is hashed in the KV mirror's
 * `tokenMirrorKey` (lib/revocation-mirror.ts); a test holds the two together.
 */
export const accessTokenKey = (jti: string): Promise<string> => sha256Base64Url(`at\n${jti}`);

/** The RFC 7662 §2.2 members of an active token. */
export function introspectionBody(claims: AccessTokenClaims): Record<string, unknown> {
  return {
    active: true,
    scope: claims.scope,
    client_id: claims.client_id,
    token_type: "Bearer",
    exp: claims.exp,
    iat: claims.iat,
    sub: claims.sub,
    aud: claims.aud,
    iss: claims.iss,
    jti: claims.jti,
    idp: claims.idp,
    ...(claims.tenant !== undefined && { tenant: claims.tenant }),
    ...(claims.auth_time !== undefined && { auth_time: claims.auth_time }),
    ...(claims.act !== undefined && { act: claims.act }),
  };
}
