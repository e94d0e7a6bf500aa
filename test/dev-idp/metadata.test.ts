// Discovery and keys: what the MCP SDK and ema-edge read from the dev IdP.
import { describe, expect, it } from "vitest";
import { discoverAndRequestJwtAuthGrant } from "@modelcontextprotocol/client";
import { decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify } from "jose";
import { call, CLIENT_ID, CLIENT_SECRET, EMA_EDGE, idpKeys, ISSUER, login, RESOURCE } from "./support/dev-idp";

describe("metadata", () => {
  it.each(["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"])("%s names the issuer, endpoints and the exchange", async (path) => {
    const res = await call(path);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      issuer: ISSUER,
      token_endpoint: `${ISSUER}/oauth2/token`,
      jwks_uri: `${ISSUER}/.well-known/jwks.json`,
      grant_types_supported: expect.arrayContaining(["urn:ietf:params:oauth:grant-type:token-exchange"]),
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
      id_token_signing_alg_values_supported: ["RS256"],
    });
  });

  it("the authorization endpoint the SDK's schema requires explains that there is no browser login", async () => {
    const res = await call("/oauth2/authorize");
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "unsupported_response_type" });
  });
});

describe("JWKS", () => {
  it("publishes one RS256 public key with kid, alg and use, and no private member", async () => {
    const res = await call("/.well-known/jwks.json");
    const { keys } = await res.json<{ keys: Record<string, unknown>[] }>();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig", kid: expect.any(String), n: expect.any(String), e: "AQAB" });
    for (const member of ["d", "p", "q", "dp", "dq", "qi"]) expect(keys[0]).not.toHaveProperty(member);
  });

  it("keeps the generated key across requests (it lives in IDP_STATE), so earlier tokens still verify", async () => {
    const token = await login("bob");
    const { kid } = decodeProtectedHeader(token);
    const again = await (await call("/.well-known/jwks.json")).json<{ keys: { kid: string }[] }>();
    expect(again.keys[0]!.kid).toBe(kid);
    await jwtVerify(token, await idpKeys(), { issuer: ISSUER });
  });

  it("publishes the public half of IDP_SIGNING_KEY when it is set", async () => {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: "es-1", alg: "ES256" };
    const res = await call("/.well-known/jwks.json", {}, { IDP_SIGNING_KEY: JSON.stringify(jwk) });
    const { keys } = await res.json<{ keys: Record<string, unknown>[] }>();
    expect(keys).toEqual([{ kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, kid: "es-1", alg: "ES256", use: "sig" }]);
  });
});

describe("the official MCP client", () => {
  it("discovers the IdP and gets an ID-JAG with discoverAndRequestJwtAuthGrant", async () => {
    const idToken = await login("alice");
    // The SDK's fetch goes to the Worker's module instead of the network.
    const fetchFn = (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      return call(url.pathname, init);
    };
    const grant = await discoverAndRequestJwtAuthGrant({ idpUrl: ISSUER, audience: EMA_EDGE, resource: RESOURCE, idToken, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, scope: "notes.read notes.write", fetchFn });
    expect(grant.scope).toBe("notes.read notes.write");
    expect(grant.expiresIn).toBe(300);
    const { payload } = await jwtVerify(grant.jwtAuthGrant, await idpKeys(), { issuer: ISSUER, audience: EMA_EDGE, typ: "oauth-id-jag+jwt" });
    expect(payload).toMatchObject({ sub: "00ualiceDEVIDP000001", client_id: CLIENT_ID, resource: RESOURCE });
  });
});
