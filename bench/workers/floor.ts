// The floor: the irreducible work of an exchange and nothing else. It reads the form, verifies the
// ID-JAG's signature (with the IdP key imported once per isolate, as ema-edge's JWKS cache does)
// and signs one RFC 9068 access token with the AT_SIGNING_KEYS key: same algorithms, same keys,
// same claims ema-edge puts in its token. No client auth, no policy, no replay check, no audit.
import { SignJWT, importJWK, jwtVerify, type CryptoKey, type JWTPayload } from "jose";

export interface FloorEnv {
  ISSUER: string;
  IDP_JWKS: string;
  AT_SIGNING_KEYS: string;
}

interface Keys {
  verify: CryptoKey;
  sign: CryptoKey;
  kid: string;
}
let keys: Promise<Keys> | undefined;

async function importKeys(env: FloorEnv): Promise<Keys> {
  const idp = (JSON.parse(env.IDP_JWKS) as { keys: JsonWebKey[] }).keys[0]!;
  const at = JSON.parse(env.AT_SIGNING_KEYS) as { current: string; keys: (JsonWebKey & { kid: string })[] };
  const current = at.keys.find((k) => k.kid === at.current)!;
  return {
    verify: (await importJWK(idp as Parameters<typeof importJWK>[0], "ES256")) as CryptoKey,
    sign: (await importJWK(current as Parameters<typeof importJWK>[0], "ES256")) as CryptoKey,
    kid: current.kid,
  };
}

/**
 * The floor's exchange: verify, then `between` (floor-do.ts adds the jti spend and the audit line
 * there; false refuses), then sign. One copy, so the two floors differ only by what `between` does.
 */
export async function floorExchange(request: Request, env: FloorEnv, between?: (claims: JWTPayload, accessTokenJti: string, now: number) => Promise<boolean>): Promise<Response> {
  const k = await (keys ??= importKeys(env));
  const form = new URLSearchParams(await request.text());
  const now = Math.floor(Date.now() / 1000);
  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(form.get("assertion") ?? "", k.verify, { typ: "oauth-id-jag+jwt", algorithms: ["ES256"], audience: env.ISSUER }));
  } catch {
    return Response.json({ error: "invalid_grant" }, { status: 400 });
  }
  const jti = crypto.randomUUID();
  if (between && !(await between(claims, jti, now))) return Response.json({ error: "invalid_grant" }, { status: 400 });
  const token = await new SignJWT({ client_id: claims.client_id, scope: claims.scope, idp: claims.iss })
    .setProtectedHeader({ alg: "ES256", kid: k.kid, typ: "at+jwt" })
    .setIssuer(env.ISSUER)
    .setSubject(claims.sub!)
    .setAudience(String(claims.resource))
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .setJti(jti)
    .sign(k.sign);
  return Response.json(
    { access_token: token, token_type: "Bearer", expires_in: 300, scope: claims.scope, resource: claims.resource },
    { headers: { "cache-control": "no-store" } },
  );
}

export default {
  fetch: (request: Request, env: FloorEnv) => floorExchange(request, env),
} satisfies ExportedHandler<FloorEnv>;
