// Mints the ID-JAG (spec notes §3): `typ: oauth-id-jag+jwt`, signed with the IdP key, the claims
// ema-edge reads (iss sub aud client_id jti iat exp resource scope) plus what its policy decides on
// (groups, amr, auth_time) and email for account resolution.
import { SignJWT } from "jose";
import type { SigningKey } from "./keys";

/** Every example and Okta use 300 s; ema-edge refuses ID-JAGs living longer (max_assertion_lifetime_seconds). */
export const ID_JAG_TTL_SECONDS = 300;
export const ID_JAG_TYP = "oauth-id-jag+jwt";

export interface IdJagInput {
  issuer: string;
  sub: string;
  /** The authorization server's issuer (the request's `audience`). */
  audience: string;
  /** The client's id at that authorization server: here, the id it authenticated with. */
  clientId: string;
  resource?: string;
  scope?: string;
  groups: readonly string[];
  email: string;
  authTime: number;
  amr: readonly string[];
  now: number;
}

export async function mintIdJag(input: IdJagInput, key: SigningKey): Promise<string> {
  const claims: Record<string, unknown> = {
    client_id: input.clientId,
    ...(input.resource !== undefined && { resource: input.resource }),
    ...(input.scope !== undefined && { scope: input.scope }),
    groups: [...input.groups],
    email: input.email,
    auth_time: input.authTime,
    amr: [...input.amr],
  };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: ID_JAG_TYP })
    .setIssuer(input.issuer)
    .setSubject(input.sub)
    .setAudience(input.audience)
    .setJti(crypto.randomUUID())
    .setIssuedAt(input.now)
    .setExpirationTime(input.now + ID_JAG_TTL_SECONDS)
    .sign(key.privateKey);
}
