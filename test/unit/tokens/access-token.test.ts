import { decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, jwtVerify, type CryptoKey } from "jose";
import { describe, expect, it } from "vitest";
import { mintAccessToken, type AccessTokenGrant } from "../../../workers/authorization-server/tokens/access-token";
import type { SigningKeys } from "../../../workers/authorization-server/tokens/signing-keys";

const NOW = 1_800_000_000;
const GRANT: AccessTokenGrant = {
  issuer: "https://as.example.test",
  idp: "https://idp.example.test",
  sub: "00u1",
  clientId: "client-1",
  resource: "https://mcp.example.test/mcp",
  scopes: ["notes.read", "notes.write"],
  ttlSeconds: 300,
  authTime: NOW - 60,
  tenant: "t-1",
  act: { sub: "agent-7" },
};

async function keysFor(alg: SigningKeys["alg"]) {
  const pair = await generateKeyPair(alg, { extractable: true, ...(alg === "EdDSA" && { crv: "Ed25519" }) });
  // As signing-keys.ts loads them: a private JWK imported with jose.
  const privateKey = (await importJWK({ ...(await exportJWK(pair.privateKey)), alg }, alg)) as CryptoKey;
  return { keys: { kid: `${alg}-1`, alg, privateKey, jwksJson: "" } satisfies SigningKeys, publicKey: pair.publicKey };
}

describe("mintAccessToken", () => {
  it.each(["ES256", "RS256", "EdDSA"] as const)("signs an RFC 9068 at+jwt that jose verifies (%s)", async (alg) => {
    const { keys, publicKey } = await keysFor(alg);
    const minted = await mintAccessToken(GRANT, keys, NOW);
    const { payload, protectedHeader } = await jwtVerify(minted.token, publicKey, {
      typ: "at+jwt",
      algorithms: [alg],
      issuer: GRANT.issuer,
      audience: GRANT.resource,
      currentDate: new Date(NOW * 1000),
    });
    expect(protectedHeader).toEqual({ alg, kid: `${alg}-1`, typ: "at+jwt" });
    expect(payload).toEqual({
      client_id: "client-1",
      scope: "notes.read notes.write",
      idp: GRANT.idp,
      auth_time: NOW - 60,
      tenant: "t-1",
      act: { sub: "agent-7" },
      iss: GRANT.issuer,
      sub: "00u1",
      aud: GRANT.resource,
      iat: NOW,
      exp: NOW + 300,
      jti: minted.jti,
    });
    expect(minted).toMatchObject({ iat: NOW, exp: NOW + 300 });
  });

  it("leaves out the optional claims it was not given, and uses a fresh jti each time", async () => {
    const { keys } = await keysFor("ES256");
    const { authTime: _a, tenant: _t, act: _c, ...bare } = GRANT;
    const [a, b] = [await mintAccessToken(bare, keys, NOW), await mintAccessToken(bare, keys, NOW)];
    const payload = JSON.parse(atob(a.token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")));
    expect(Object.keys(payload)).toEqual(["client_id", "scope", "idp", "iss", "sub", "aud", "iat", "exp", "jti"]);
    expect(decodeProtectedHeader(a.token).typ).toBe("at+jwt");
    expect(a.jti).not.toBe(b.jti);
  });
});
