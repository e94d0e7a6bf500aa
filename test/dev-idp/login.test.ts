// POST /dev/login: an OIDC ID token for a seeded user, standing in for SSO.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { decodeProtectedHeader, jwtVerify } from "jose";
import { call, CLIENT_ID, form, idpKeys, ISSUER, nowSeconds } from "./support/dev-idp";

const kv = (env as unknown as { IDP_STATE: KVNamespace }).IDP_STATE;

describe("login", () => {
  it.each([
    ["alice", "00ualiceDEVIDP000001", ["engineering"], ["pwd", "mfa"]],
    ["bob", "00ubobDEVIDP00000002", ["sales"], ["pwd"]],
    ["carol", "00ucarolDEVIDP000003", [], ["pwd"]],
  ])("mints %s an ID token for demo-client that verifies against the JWKS", async (username, sub, groups, amr) => {
    const before = nowSeconds();
    const res = await call("/dev/login", form({ username }));
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = await res.json<{ id_token: string; token_type: string; expires_in: number }>();
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 3600 });
    expect(decodeProtectedHeader(body.id_token)).toMatchObject({ typ: "JWT", alg: "RS256" });
    const { payload } = await jwtVerify(body.id_token, await idpKeys(), { issuer: ISSUER, audience: CLIENT_ID });
    expect(payload).toMatchObject({ sub, groups, amr, email: `${username}@example.com` });
    expect(payload.auth_time).toBeGreaterThanOrEqual(before);
    expect(payload.iat).toBe(payload.auth_time);
    expect(payload.exp).toBe(payload.iat! + 3600);
  });

  it("puts the given client_id in aud", async () => {
    const res = await call("/dev/login", form({ username: "bob", client_id: "demo-client" }));
    const { id_token } = await res.json<{ id_token: string }>();
    expect((await jwtVerify(id_token, await idpKeys())).payload.aud).toBe("demo-client");
  });

  it.each([
    ["an unknown user", { username: "mallory" }, "No such user."],
    ["a prototype name as user", { username: "constructor" }, "No such user."],
    ["no username", {}, "username is missing."],
    ["an unknown client_id", { username: "alice", client_id: "other-client" }, "No such client_id."],
  ])("refuses %s", async (_name, params, description) => {
    const res = await call("/dev/login", form(params as Record<string, string>));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "invalid_request", error_description: description });
  });

  it("refuses a deactivated user with 403 access_denied", async () => {
    await kv.put("user:v1:carol", JSON.stringify({ active: false, removedGroups: [], sessionsClearedAt: null }));
    try {
      const res = await call("/dev/login", form({ username: "carol" }));
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: "access_denied", error_description: "The user is deactivated." });
    } finally {
      await kv.delete("user:v1:carol");
    }
  });

  it("leaves removed groups out of the ID token", async () => {
    await kv.put("user:v1:bob", JSON.stringify({ active: true, removedGroups: ["sales"], sessionsClearedAt: null }));
    try {
      const res = await call("/dev/login", form({ username: "bob" }));
      const { id_token } = await res.json<{ id_token: string }>();
      expect((await jwtVerify(id_token, await idpKeys())).payload.groups).toEqual([]);
    } finally {
      await kv.delete("user:v1:bob");
    }
  });

  it("refuses a JSON body: the login is a form post", async () => {
    const res = await call("/dev/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "alice" }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_request" });
  });

  it("refuses GET", async () => {
    const res = await call("/dev/login?username=alice");
    expect(res.status).toBe(405);
  });
});
