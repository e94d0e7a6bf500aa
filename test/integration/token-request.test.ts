// Spec notes §11 "Request and transport" and "Client authentication", end to end through the Worker.
import { exports } from "cloudflare:workers";
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { basic, captureAudit, CLIENT_ID, CLIENT_SECRET, expectRefusal, ISSUER, JWT_BEARER, OTHER_RESOURCE, setupWorld, TOKEN_URL, type World } from "../support/world";

let world: World;
let audit: Map<string, Record<string, any>>;
beforeAll(async () => {
  world = await setupWorld();
  audit = captureAudit();
});

describe("request and transport", () => {
  it("refuses GET with 405 invalid_request and Allow: POST", async () => {
    const res = await exports.default.fetch(`${TOKEN_URL}?grant_type=${JWT_BEARER}`);
    await expectRefusal(res, audit, { status: 405, error: "invalid_request", reason: "method_not_allowed" });
    expect(res.headers.get("allow")).toBe("POST");
  });

  it("refuses a JSON body", async () => {
    const res = await exports.default.fetch(TOKEN_URL, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: basic(CLIENT_ID, CLIENT_SECRET) },
      body: JSON.stringify({ grant_type: JWT_BEARER, assertion: await world.assertion() }),
    });
    await expectRefusal(res, audit, { error: "invalid_request", reason: "unsupported_content_type" });
  });

  it("refuses a body over 32 KiB with 413 before parsing it", async () => {
    const res = await world.exchange({ grant_type: JWT_BEARER, assertion: "a".repeat(40 * 1024) });
    await expectRefusal(res, audit, { status: 413, error: "invalid_request", reason: "body_too_large" });
  });

  it("refuses a body that is not UTF-8", async () => {
    const res = await exports.default.fetch(TOKEN_URL, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic(CLIENT_ID, CLIENT_SECRET) },
      body: new Uint8Array([0x67, 0x3d, 0xff, 0xfe]),
    });
    await expectRefusal(res, audit, { error: "invalid_request", reason: "malformed_body" });
  });

  it.each([
    { name: "grant_type missing", params: { assertion: "x.y.z" }, error: "invalid_request", reason: "grant_type_missing" },
    { name: "an unknown grant type", params: { grant_type: "password", assertion: "x.y.z" }, error: "unsupported_grant_type", reason: "unsupported_grant_type" },
    { name: "the token-exchange grant", params: { grant_type: "urn:ietf:params:oauth:grant-type:token-exchange" }, error: "unsupported_grant_type", reason: "unsupported_grant_type" },
    { name: "assertion missing", params: { grant_type: JWT_BEARER }, error: "invalid_request", reason: "assertion_missing" },
    { name: "an empty assertion", params: { grant_type: JWT_BEARER, assertion: "" }, error: "invalid_request", reason: "assertion_missing" },
    { name: "two assertion parameters", params: { grant_type: JWT_BEARER, assertion: ["a.b.c", "d.e.f"] }, error: "invalid_request", reason: "duplicate_parameter" },
    { name: "two grant_type parameters", params: { grant_type: [JWT_BEARER, JWT_BEARER], assertion: "a.b.c" }, error: "invalid_request", reason: "duplicate_parameter" },
    { name: "a malformed scope parameter", params: { grant_type: JWT_BEARER, assertion: "a.b.c", scope: 'read "write"' }, error: "invalid_scope", reason: "scope_parameter_malformed" },
  ])("refuses $name", async ({ params, error, reason }) => {
    await expectRefusal(await world.exchange(params as Record<string, string | string[]>), audit, { error, reason });
  });

  it("refuses an assertion one byte over 16 KiB before any crypto or JWKS fetch, and passes the size check at exactly 16 KiB", async () => {
    const before = (await world.idp.stats()).jwksFetches;
    const over = await world.exchange({ grant_type: JWT_BEARER, assertion: "a".repeat(16 * 1024 + 1) });
    await expectRefusal(over, audit, { error: "invalid_request", reason: "assertion_too_large" });
    const at = await world.exchange({ grant_type: JWT_BEARER, assertion: "a".repeat(16 * 1024) });
    await expectRefusal(at, audit, { error: "invalid_grant", reason: "jws_malformed" });
    expect((await world.idp.stats()).jwksFetches).toBe(before);
  });

  it("answers errors as JSON with no-store and a request id", async () => {
    const res = await world.exchange({ grant_type: "nope" });
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });
});

describe("client authentication", () => {
  it("refuses a request with no client credentials with 401 invalid_client", async () => {
    const res = await world.exchange({ grant_type: JWT_BEARER, assertion: await world.assertion() }, { auth: null });
    await expectRefusal(res, audit, { error: "invalid_client", reason: "client_auth_missing" });
  });

  it("refuses a wrong Basic secret with 401 and WWW-Authenticate: Basic, in generic words", async () => {
    const res = await world.exchange({ grant_type: JWT_BEARER, assertion: await world.assertion() }, { auth: basic(CLIENT_ID, "wrong") });
    const body = await expectRefusal(res, audit, { error: "invalid_client", reason: "client_secret_mismatch" });
    expect(res.headers.get("www-authenticate")).toMatch(/^Basic /);
    expect(body.error_description).toBe("Client authentication failed.");
  });

  it("answers an unknown client exactly like a wrong secret (no client-id oracle)", async () => {
    const unknown = await world.exchange({ grant_type: JWT_BEARER, assertion: "a.b.c" }, { auth: basic("nobody", "x") });
    const wrong = await world.exchange({ grant_type: JWT_BEARER, assertion: "a.b.c" }, { auth: basic(CLIENT_ID, "x") });
    const [u, w] = [await u_(unknown), await u_(wrong)];
    expect(u).toEqual(w);
  });

  it("refuses Basic plus client_secret in the body as invalid_request", async () => {
    const res = await world.exchange({ grant_type: JWT_BEARER, assertion: await world.assertion(), client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
    await expectRefusal(res, audit, { error: "invalid_request", reason: "client_auth_multiple_methods" });
  });

  it("accepts client_secret_post", async () => {
    const res = await world.exchange({ grant_type: JWT_BEARER, assertion: await world.assertion(), client_id: CLIENT_ID, client_secret: CLIENT_SECRET }, { auth: null });
    expect(res.status).toBe(200);
  });

  it("refuses a public client (client_id only)", async () => {
    const res = await world.exchange({ grant_type: JWT_BEARER, assertion: await world.assertion(), client_id: CLIENT_ID }, { auth: null });
    await expectRefusal(res, audit, { error: "invalid_client", reason: "client_auth_missing" });
  });

  it("refuses a disabled client", async () => {
    const res = await world.exchange({ grant_type: JWT_BEARER, assertion: await world.assertion({ client_id: "client-disabled" }) }, { auth: basic("client-disabled", CLIENT_SECRET) });
    await expectRefusal(res, audit, { error: "invalid_client", reason: "client_disabled" });
  });

  it("refuses an authenticated client not enabled for the jwt-bearer grant with unauthorized_client", async () => {
    const res = await world.exchange({ grant_type: JWT_BEARER, assertion: await world.assertion({ client_id: "client-no-grant" }) }, { auth: basic("client-no-grant", CLIENT_SECRET) });
    await expectRefusal(res, audit, { error: "unauthorized_client", reason: "client_not_authorized_for_grant" });
  });

  it("refuses a resource outside the client's allowed resources", async () => {
    const res = await world.exchange(
      { grant_type: JWT_BEARER, assertion: await world.assertion({ client_id: "client-limited" }) },
      { auth: basic("client-limited", CLIENT_SECRET) },
    );
    await expectRefusal(res, audit, { error: "invalid_target", reason: "client_resource_not_allowed" });
  });

  describe("private_key_jwt", () => {
    const clientAssertion = async (overrides: Record<string, unknown> = {}, key = world.clientJwtKey) => {
      const now = Math.floor(Date.now() / 1000);
      const claims: Record<string, unknown> = { iss: "client-jwt", sub: "client-jwt", aud: ISSUER, jti: crypto.randomUUID(), iat: now, exp: now + 60, ...overrides };
      return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid }).sign(key.privateKey);
    };
    const withClientAssertion = async (ca: string, idJagOverrides: Record<string, unknown> = {}) =>
      world.exchange(
        {
          grant_type: JWT_BEARER,
          assertion: await world.assertion({ client_id: "client-jwt", ...idJagOverrides }),
          client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
          client_assertion: ca,
        },
        { auth: null },
      );

    it("accepts a client assertion signed with the registered key, audience the issuer or the token endpoint", async () => {
      expect((await withClientAssertion(await clientAssertion())).status).toBe(200);
      expect((await withClientAssertion(await clientAssertion({ aud: TOKEN_URL }))).status).toBe(200);
    });

    it("refuses a replayed client assertion before looking at the ID-JAG, and leaves that ID-JAG unspent", async () => {
      const ca = await clientAssertion();
      expect((await withClientAssertion(ca)).status).toBe(200);
      const jti = crypto.randomUUID();
      await expectRefusal(await withClientAssertion(ca, { jti }), audit, { error: "invalid_client", reason: "client_assertion_replayed" });
      // A broken ID-JAG behind a replayed client assertion reveals nothing about the ID-JAG.
      await expectRefusal(await withClientAssertion(ca, { aud: "https://elsewhere.example" }), audit, { error: "invalid_client", reason: "client_assertion_replayed" });
      expect((await withClientAssertion(await clientAssertion(), { jti })).status).toBe(200);
    });

    it.each([
      { name: "a wrong audience", overrides: { aud: "https://elsewhere.example" } },
      { name: "an expired assertion", overrides: { exp: Math.floor(Date.now() / 1000) - 120 } },
      { name: "iss ≠ client_id", overrides: { iss: "someone-else" } },
      { name: "sub ≠ client_id", overrides: { sub: "someone-else" } },
    ])("refuses a client assertion with $name", async ({ overrides }) => {
      await expectRefusal(await withClientAssertion(await clientAssertion(overrides)), audit, { error: "invalid_client", reason: "client_assertion_invalid" });
    });

    it("refuses a client assertion signed by an unregistered key", async () => {
      const { makeKey } = await import("../support/test-idp");
      const rogue = await makeKey("ES256", world.clientJwtKey.kid);
      await expectRefusal(await withClientAssertion(await clientAssertion({}, rogue)), audit, { error: "invalid_client", reason: "client_assertion_invalid" });
    });
  });

  it("uses another client's resource grants only for that client (client_id binding)", async () => {
    const res = await world.exchange({ grant_type: JWT_BEARER, assertion: await world.assertion({ client_id: "client-limited", resource: OTHER_RESOURCE }) });
    await expectRefusal(res, audit, { error: "invalid_grant", reason: "client_id_mismatch" });
  });
});

async function u_(res: Response) {
  return { status: res.status, body: await res.json(), auth: res.headers.get("www-authenticate") };
}
