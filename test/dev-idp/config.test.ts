// The dev IdP refuses to serve anywhere but on this machine, and says so on every response.
import { describe, expect, it } from "vitest";
import { call } from "./support/dev-idp";

describe("a non-loopback ISSUER", () => {
  it.each([
    ["a public host", "https://idp.example.com"],
    ["a look-alike host", "http://localhost.example.com"],
    ["another 127/8 address written as a name", "http://127.0.0.1.nip.io:8788"],
    ["userinfo before a loopback host", "http://user@localhost:8788"],
    ["a path", "http://localhost:8788/idp"],
    ["a trailing slash", "http://localhost:8788/"],
    ["a non-http scheme", "ftp://localhost:8788"],
    ["a non-URL", "localhost:8788"],
    ["an empty value", ""],
  ])("refuses every route for %s", async (_name, issuer) => {
    for (const path of ["/.well-known/openid-configuration", "/dev/login", "/oauth2/token", "/dev/users"]) {
      const res = await call(path, { method: path === "/dev/users" || path.startsWith("/.well-known") ? "GET" : "POST" }, { ISSUER: issuer });
      expect(res.status).toBe(500);
      expect(await res.text()).toContain("is not a loopback http(s) origin");
      expect(res.headers.get("x-dev-idp")).toBe("not-for-production");
    }
  });

  it.each(["http://localhost:8788", "http://127.0.0.1:8788", "http://[::1]:8788", "https://localhost"])("serves on %s", async (issuer) => {
    const res = await call("/.well-known/oauth-authorization-server", {}, { ISSUER: issuer });
    expect(res.status).toBe(200);
    expect((await res.json<{ issuer: string }>()).issuer).toBe(issuer);
  });

  it("refuses an EMA_EDGE_ISSUER that is not an http(s) URL", async () => {
    const res = await call("/dev/users", {}, { EMA_EDGE_ISSUER: "not a url" });
    expect(res.status).toBe(500);
    expect(await res.text()).toContain("EMA_EDGE_ISSUER");
  });

  it("refuses an EMA_EDGE_IDP_ID that cannot be a path segment", async () => {
    const res = await call("/dev/users", {}, { EMA_EDGE_IDP_ID: "../admin" });
    expect(res.status).toBe(500);
    expect(await res.text()).toContain("EMA_EDGE_IDP_ID");
  });
});

describe("every response", () => {
  it.each([
    ["GET", "/"],
    ["GET", "/.well-known/jwks.json"],
    ["GET", "/no/such/path"],
    ["GET", "/oauth2/token"],
    ["POST", "/dev/users/nobody/deactivate"],
  ])("carries X-Dev-Idp: not-for-production (%s %s)", async (method, path) => {
    const res = await call(path, { method });
    expect(res.headers.get("x-dev-idp")).toBe("not-for-production");
  });

  it("answers an unusable IDP_SIGNING_KEY with a 500 naming the problem, not the key", async () => {
    const res = await call("/.well-known/jwks.json", {}, { IDP_SIGNING_KEY: JSON.stringify({ kty: "oct", k: "c2VjcmV0", kid: "x", alg: "HS256" }) });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).toContain("IDP_SIGNING_KEY alg must be RS256 or ES256");
    expect(text).not.toContain("c2VjcmV0");
  });
});
