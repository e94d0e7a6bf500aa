import { beforeAll, describe, expect, it, vi } from "vitest";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { exports } from "cloudflare:workers";
import { ISSUER, JWT_BEARER, RESOURCE, CLIENT_ID, readError, setupWorld, type World } from "../support/world";

let world: World;
beforeAll(async () => {
  world = await setupWorld();
});

async function ourJwks() {
  const res = await exports.default.fetch(`${ISSUER}/.well-known/jwks.json`);
  return createLocalJWKSet(await res.json());
}

describe("a valid ID-JAG is redeemed for an RFC 9068 access token", () => {
  it("answers 200 with Bearer, expires_in, the granted scope and resource, no-store and no refresh token", async () => {
    const res = await world.exchange({ grant_type: JWT_BEARER, assertion: await world.assertion() });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const body = await res.json<Record<string, unknown>>();
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 300, scope: "read write", resource: RESOURCE });
    expect(body).not.toHaveProperty("refresh_token");
  });

  it("mints a token that verifies against our published JWKS with the claims MCP servers check", async () => {
    const auth_time = Math.floor(Date.now() / 1000) - 30;
    const act = { sub: "agent-7", sub_profile: "ai_agent" };
    const res = await world.exchange({ grant_type: JWT_BEARER, assertion: await world.assertion({ sub: "alice", act, auth_time }) });
    const { access_token } = await res.json<{ access_token: string }>();
    expect(decodeProtectedHeader(access_token).typ).toBe("at+jwt");
    const { payload } = await jwtVerify(access_token, await ourJwks(), { issuer: ISSUER, audience: RESOURCE, typ: "at+jwt" });
    expect(payload).toMatchObject({ sub: "alice", client_id: CLIENT_ID, scope: "read write", idp: world.idp.issuer, act, auth_time });
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(typeof payload.jti).toBe("string");
  });

  it("accepts an Okta-shaped assertion: act, nbf, a one-element aud array, application/ typ", async () => {
    const now = Math.floor(Date.now() / 1000);
    const assertion = await world.assertion(
      { aud: [ISSUER], nbf: now, act: { sub: "wlp123", sub_profile: "ai_agent web_app" }, jti: `IDAAG.${crypto.randomUUID()}` },
      { header: { typ: "application/OAUTH-ID-JAG+JWT" } },
    );
    expect((await world.exchange({ grant_type: JWT_BEARER, assertion })).status).toBe(200);
  });

  it("redeems an assertion with under 60 s left (no KV TTL floor on the replay marker)", async () => {
    const now = Math.floor(Date.now() / 1000);
    const res = await world.exchange({ grant_type: JWT_BEARER, assertion: await world.assertion({ iat: now - 290, exp: now + 10 }) });
    expect(res.status).toBe(200);
  });

  it("writes one audit line with iss, sub, client_id, resource, scopes and a jti hash, and never the token", async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));
    try {
      const jti = crypto.randomUUID();
      const assertion = await world.assertion({ jti, sub: "audited-user" });
      const res = await world.exchange({ grant_type: JWT_BEARER, assertion });
      const { access_token } = await res.json<{ access_token: string }>();
      const events = lines.map((l) => JSON.parse(l)).filter((e) => e.type === "ema.token");
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        decision: "granted",
        request_id: res.headers.get("x-request-id"),
        iss: world.idp.issuer,
        sub: "audited-user",
        client_id: CLIENT_ID,
        resource: RESOURCE,
        scopes: ["read", "write"],
        policy_version: 1,
        rules: ["test-idp-mcp"],
      });
      expect(events[0].jti_sha256).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const all = lines.join("\n");
      for (const secret of [assertion, access_token, jti, assertion.split(".")[2]!]) expect(all).not.toContain(secret);
    } finally {
      spy.mockRestore();
    }
  });
});
