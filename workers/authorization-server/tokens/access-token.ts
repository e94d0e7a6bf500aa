// Mints the RFC 9068 access token for one MCP resource: `typ: at+jwt`, `aud` = the resource, the
// IdP's issuer as `idp` so MCP servers key users by (idp, sub) (design.md, "Access token").
import { SignJWT } from "jose";
import type { SigningKeys } from "./signing-keys";

export interface AccessTokenGrant {
  issuer: string;
  /** The ID-JAG `iss`. */
  idp: string;
  sub: string;
  clientId: string;
  resource: string;
  scopes: readonly string[];
  ttlSeconds: number;
  authTime?: number;
  tenant?: string;
  act?: Record<string, unknown>;
}

export interface MintedAccessToken {
  token: string;
  jti: string;
  iat: number;
  exp: number;
}

export async function mintAccessToken(grant: AccessTokenGrant, keys: SigningKeys, now: number): Promise<MintedAccessToken> {
  const jti = crypto.randomUUID();
  const exp = now + grant.ttlSeconds;
  const token = await new SignJWT({
    client_id: grant.clientId,
    scope: grant.scopes.join(" "),
    idp: grant.idp,
    ...(grant.authTime !== undefined && { auth_time: grant.authTime }),
    ...(grant.tenant !== undefined && { tenant: grant.tenant }),
    ...(grant.act !== undefined && { act: grant.act }),
  })
    .setProtectedHeader({ alg: keys.alg, kid: keys.kid, typ: "at+jwt" })
    .setIssuer(grant.issuer)
    .setSubject(grant.sub)
    .setAudience(grant.resource)
    .setIssuedAt(now)
    .setExpirationTime(exp)
    .setJti(jti)
    .sign(keys.privateKey);
  return { token, jti, iat: now, exp };
}
