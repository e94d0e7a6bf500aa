// AS metadata (RFC 8414, spec notes §7.1) and the access-token JWKS.
import { env, exports } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../workers/authorization-server/index";
import { ISSUER, setupWorld, type World } from "../support/world";

let world: World;
beforeAll(async () => {
  world = await setupWorld();
});

const metadata = async () => (await exports.default.fetch(`${ISSUER}/.well-known/oauth-authorization-server`)).json<Record<string, any>>();

describe("authorization server metadata", () => {
  it("names our issuer exactly and the endpoints under it", async () => {
    const doc = await metadata();
    expect(doc.issuer).toBe(ISSUER);
    expect(doc.token_endpoint).toBe(`${ISSUER}/oauth2/token`);
    expect(doc.jwks_uri).toBe(`${ISSUER}/.well-known/jwks.json`);
  });

  it("advertises the ID-JAG grant profile and the jwt-bearer grant type", async () => {
    const doc = await metadata();
    expect(doc.authorization_grant_profiles_supported).toContain("urn:ietf:params:oauth:grant-profile:id-jag");
    expect(doc.grant_types_supported).toContain("urn:ietf:params:oauth:grant-type:jwt-bearer");
  });

  it("lists client auth methods with signing algorithms, scopes, and an empty response_types_supported", async () => {
    const doc = await metadata();
    expect(doc.token_endpoint_auth_methods_supported).toEqual(["client_secret_basic", "client_secret_post", "private_key_jwt"]);
    expect(doc.token_endpoint_auth_signing_alg_values_supported).toContain("ES256");
    expect(doc.token_endpoint_auth_signing_alg_values_supported).not.toContain("none");
    expect(doc.scopes_supported).toEqual(["read", "write", "admin"]);
    expect(doc.response_types_supported).toEqual([]);
  });

  it("publishes an authorization endpoint (the MCP SDK requires the member) that refuses every request without redirecting", async () => {
    const doc = await metadata();
    expect(doc.authorization_endpoint).toBe(`${ISSUER}/oauth2/authorize`);
    for (const init of [{ method: "GET" }, { method: "POST", body: "response_type=code" }]) {
      const response = await exports.default.fetch(`${ISSUER}/oauth2/authorize?response_type=code&client_id=x&redirect_uri=https://evil.example/cb`, init);
      expect(response.status).toBe(400);
      expect(response.headers.get("location")).toBeNull();
      expect(await response.json()).toMatchObject({ error: "unsupported_response_type" });
    }
  });

  it("never discloses the trusted issuers", async () => {
    const text = JSON.stringify(await metadata());
    expect(text).not.toContain(world.idp.issuer);
    expect(text).not.toContain(world.otherIdp.issuer);
    expect(text).not.toContain("127.0.0.1");
  });

  it("serves the path-inserted form when the issuer has a path", async () => {
    const pathEnv = { ...env, ISSUER: "https://as.example.test/tenant-a" };
    const ctx = createExecutionContext();
    const res = await worker.fetch(new Request("https://as.example.test/.well-known/oauth-authorization-server/tenant-a"), pathEnv, ctx);
    const doc = await res.json<Record<string, any>>();
    expect(doc.issuer).toBe("https://as.example.test/tenant-a");
    expect(doc.token_endpoint).toBe("https://as.example.test/tenant-a/oauth2/token");
    const root = await worker.fetch(new Request("https://as.example.test/.well-known/oauth-authorization-server"), pathEnv, ctx);
    expect(root.status).toBe(404);
  });
});

describe("access-token JWKS", () => {
  it("publishes every signing key's public half and nothing private", async () => {
    const res = await exports.default.fetch(`${ISSUER}/.well-known/jwks.json`);
    const { keys } = await res.json<{ keys: Record<string, unknown>[] }>();
    expect(keys.map((k) => k.kid)).toEqual(["test-current", "test-next"]);
    for (const key of keys) {
      expect(key).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
      expect(key).not.toHaveProperty("d");
    }
  });
});

describe("unknown routes and failures", () => {
  it("does not spend an ID-JAG when the signing keys are broken, and audits the failure", async () => {
    const { captureAudit, JWT_BEARER, basic, CLIENT_ID, CLIENT_SECRET, TOKEN_URL } = await import("../support/world");
    const audit = captureAudit();
    const assertion = await world.assertion();
    const request = () =>
      new Request(TOKEN_URL, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic(CLIENT_ID, CLIENT_SECRET) },
        body: new URLSearchParams({ grant_type: JWT_BEARER, assertion }),
      });
    const broken = await worker.fetch(request() as Parameters<typeof worker.fetch>[0], { ...env, AT_SIGNING_KEYS: "{}" }, createExecutionContext());
    expect(broken.status).toBe(500);
    expect(audit.get(broken.headers.get("x-request-id")!)).toMatchObject({ decision: "refused", reason: "server_error" });
    expect((await exports.default.fetch(request())).status).toBe(200);
  });

  it("answers 404 JSON for an unknown path", async () => {
    const res = await exports.default.fetch(`${ISSUER}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "not_found" });
  });

  it("answers a bare server_error with a request id, and no detail, when the signing secret is broken", async () => {
    const ctx = createExecutionContext();
    const res = await worker.fetch(new Request(`${ISSUER}/.well-known/jwks.json`), { ...env, AT_SIGNING_KEYS: '{"current":"x","keys":[]}' }, ctx);
    expect(res.status).toBe(500);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: "server_error", error_description: "The server could not complete the request." });
    expect(text).not.toMatch(/AT_SIGNING_KEYS|current|stack/i);
  });
});
