// The verifier MCP servers import (workers/lib/verifier.ts), against real access tokens from the
// Worker and its published JWKS, and tokens signed with the Worker's own key that break one rule.
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { SignJWT, decodeJwt, exportJWK, generateKeyPair, type JSONWebKeySet } from "jose";
import { mirrorDeniedToken, applyRevocations } from "../../../workers/authorization-server/revocation/apply";
import { loadSigningKeys, type SigningKeys } from "../../../workers/authorization-server/tokens/signing-keys";
import { createAccessTokenVerifier, type AccessTokenVerifierOptions } from "../../../workers/lib/verifier";
import { CLIENT_ID, ISSUER, JWT_BEARER, OTHER_RESOURCE, RESOURCE, nowSeconds, setupWorld, type World } from "../../support/world";

const PRM = "https://mcp.example.test/.well-known/oauth-protected-resource/mcp";
const JWKS_URL = `${ISSUER}/.well-known/jwks.json`;

let world: World;
let jwks: JSONWebKeySet;
let keys: SigningKeys;
beforeAll(async () => {
  world = await setupWorld();
  jwks = await (await exports.default.fetch(JWKS_URL)).json<JSONWebKeySet>();
  keys = await loadSigningKeys(env.AT_SIGNING_KEYS);
});
afterEach(() => {
  vi.useRealTimers();
});

const verifierFor = (options: Partial<AccessTokenVerifierOptions> = {}) =>
  createAccessTokenVerifier({ issuer: ISSUER, resource: RESOURCE, resourceMetadataUrl: PRM, jwks, ...options });
const request = (token?: string, url = "https://mcp.example.test/mcp") =>
  new Request(url, { method: "POST", headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

/** A real access token from the Worker's token endpoint (scope "read write"). */
async function realToken(overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await world.exchange({ grant_type: JWT_BEARER, assertion: await world.assertion(overrides) });
  expect(res.status).toBe(200);
  return (await res.json<{ access_token: string }>()).access_token;
}

/** A token signed with the Worker's current key; `claims` replace (undefined deletes) the valid ones. */
async function signed(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, key = keys.privateKey): Promise<string> {
  const t = nowSeconds();
  const payload: Record<string, unknown> = { iss: ISSUER, sub: "user-123", aud: RESOURCE, client_id: CLIENT_ID, scope: "read write", iat: t, exp: t + 300, jti: crypto.randomUUID(), idp: world.idp.issuer };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete payload[k];
  else payload[k] = v;
  return new SignJWT(payload).setProtectedHeader({ alg: keys.alg, kid: keys.kid, typ: "at+jwt", ...header } as any).sign(key);
}

/** Parses `Bearer a="b", c="d"` into its parameters. */
function challenge(res: Response): Record<string, string> {
  const header = res.headers.get("www-authenticate") ?? "";
  expect(header.startsWith("Bearer ")).toBe(true);
  return Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

async function expectInvalidToken(outcome: Awaited<ReturnType<ReturnType<typeof verifierFor>["verify"]>>, reason: string, token?: string) {
  expect(outcome.ok).toBe(false);
  if (outcome.ok) return;
  expect({ status: outcome.response.status, reason: outcome.reason }).toEqual({ status: 401, reason });
  expect(challenge(outcome.response)).toMatchObject({ error: "invalid_token", resource_metadata: PRM });
  const body = await outcome.response.text();
  expect(JSON.parse(body)).toMatchObject({ error: "invalid_token" });
  if (token !== undefined) {
    expect(body).not.toContain(token);
    expect(outcome.response.headers.get("www-authenticate")).not.toContain(token.split(".")[2]);
  }
}

describe("a valid token", () => {
  it("accepts a token from the token endpoint, with its claims and scopes", async () => {
    const token = await realToken();
    const outcome = await verifierFor().verify(request(token), ["read"]);
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.claims).toMatchObject({ iss: ISSUER, aud: RESOURCE, sub: "user-123", client_id: CLIENT_ID, idp: world.idp.issuer });
    expect(outcome.scopes).toEqual(["read", "write"]);
  });

  it("accepts typ application/at+jwt, case-insensitively", async () => {
    expect((await verifierFor().verify(request(await signed({}, { typ: "application/AT+JWT" })))).ok).toBe(true);
  });

  it("fetches the published JWKS once from jwks_uri and reuses it", async () => {
    let fetches = 0;
    const verifier = verifierFor({ jwks: { uri: JWKS_URL, fetch: (url, init) => (fetches++, exports.default.fetch(url, init)) } });
    const token = await realToken();
    expect((await verifier.verify(request(token))).ok).toBe(true);
    expect((await verifier.verify(request(token))).ok).toBe(true);
    expect(fetches).toBe(1);
  });
});

describe("no token", () => {
  it("answers 401 with resource_metadata and no error code (RFC 6750 §3.1)", async () => {
    const outcome = await verifierFor().verify(request());
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.reason).toBe("token_missing");
    expect(outcome.response.status).toBe(401);
    expect(outcome.response.headers.get("www-authenticate")).toBe(`Bearer resource_metadata="${PRM}"`);
    expect(await outcome.response.text()).toBe("");
  });

  it("names the scopes the request needs in the 401 challenge", async () => {
    const outcome = await verifierFor().verify(request(), ["read", "write"]);
    expect(outcome.ok ? undefined : challenge(outcome.response)).toEqual({ scope: "read write", resource_metadata: PRM });
  });

  it("treats another authentication scheme as no token", async () => {
    const req = new Request("https://mcp.example.test/mcp", { headers: { authorization: "Basic dXNlcjpwYXNz" } });
    const outcome = await verifierFor().verify(req);
    expect(outcome.ok ? undefined : [outcome.reason, outcome.response.status, challenge(outcome.response).error]).toEqual(["token_missing", 401, undefined]);
  });

  it("refuses a token in the query string only, without echoing it", async () => {
    const token = await realToken();
    const outcome = await verifierFor().verify(request(undefined, `https://mcp.example.test/mcp?access_token=${token}`));
    await expectInvalidToken(outcome, "token_in_query", token);
  });

  it("refuses a token in the query string even beside a valid Authorization header", async () => {
    const token = await realToken();
    const outcome = await verifierFor().verify(request(token, `https://mcp.example.test/mcp?access_token=${token}`));
    await expectInvalidToken(outcome, "token_in_query", token);
  });
});

describe("invalid tokens: 401 invalid_token", () => {
  const t = () => nowSeconds();
  it.each([
    { name: "a wrong issuer (signed with the right key)", make: () => signed({ iss: "https://other-as.example.test" }), reason: "iss_mismatch" },
    { name: "our issuer with a trailing slash", make: () => signed({ iss: `${ISSUER}/` }), reason: "iss_mismatch" },
    { name: "typ JWT", make: () => signed({}, { typ: "JWT" }), reason: "typ_invalid" },
    { name: "no typ", make: () => signed({}, { typ: undefined }), reason: "typ_invalid" },
    { name: "typ of an ID-JAG", make: () => signed({}, { typ: "oauth-id-jag+jwt" }), reason: "typ_invalid" },
    { name: "an unknown kid", make: () => signed({}, { kid: "no-such-key" }), reason: "key_unknown" },
    { name: "nbf in the future", make: () => signed({ nbf: t() + 120 }), reason: "not_yet_valid" },
    { name: "iat in the future", make: () => signed({ iat: t() + 120, exp: t() + 300 }), reason: "issued_in_future" },
    { name: "a lifetime over the policy maximum of 3600 s", make: () => signed({ iat: t() - 10, exp: t() - 10 + 3601 }), reason: "lifetime_too_long" },
    { name: "no idp", make: () => signed({ idp: undefined }), reason: "claim_invalid" },
    { name: "no client_id", make: () => signed({ client_id: undefined }), reason: "claim_invalid" },
    { name: "no jti", make: () => signed({ jti: undefined }), reason: "claim_invalid" },
    { name: "scope as an array", make: () => signed({ scope: ["read"] }), reason: "claim_invalid" },
    { name: "not a JWT", make: async () => "not-a-jwt", reason: "token_malformed" },
    { name: "a token over 8 KiB", make: () => signed({ pad: "x".repeat(9000) }), reason: "token_malformed" },
  ])("refuses $name", async ({ make, reason }) => {
    const token = await make();
    await expectInvalidToken(await verifierFor().verify(request(token)), reason, token);
  });

  it("refuses an HMAC token made with a public key as the secret (alg allow-list)", async () => {
    const secret = new TextEncoder().encode(JSON.stringify(jwks.keys[0]));
    const token = await signed({}, { alg: "HS256" }, secret as any);
    await expectInvalidToken(await verifierFor().verify(request(token)), "alg_not_allowed", token);
  });

  it("refuses PS256 even when the configured key set's key names no alg (alg allow-list)", async () => {
    const rsa = await generateKeyPair("PS256", { extractable: true });
    const set = { keys: [{ ...(await exportJWK(rsa.publicKey)), kid: "rsa-no-alg" }] };
    const token = await signed({}, { alg: "PS256", kid: "rsa-no-alg" }, rsa.privateKey);
    await expectInvalidToken(await verifierFor({ jwks: set }).verify(request(token)), "alg_not_allowed", token);
  });

  it("refuses alg none", async () => {
    const [, payload] = (await signed()).split(".");
    const header = btoa(JSON.stringify({ alg: "none", kid: keys.kid, typ: "at+jwt" })).replace(/=+$/, "");
    await expectInvalidToken(await verifierFor().verify(request(`${header}.${payload}.`)), "alg_not_allowed");
  });

  it("refuses a real token presented to a different MCP server (audience)", async () => {
    const token = await realToken();
    await expectInvalidToken(await verifierFor({ resource: OTHER_RESOURCE }).verify(request(token)), "aud_mismatch", token);
  });

  it("refuses a real token whose payload was altered (bad signature)", async () => {
    const [h, p, s] = (await realToken()).split(".");
    const claims = decodeJwt(`${h}.${p}.${s}`);
    const altered = btoa(JSON.stringify({ ...claims, scope: "read write admin" })).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    await expectInvalidToken(await verifierFor().verify(request(`${h}.${altered}.${s}`)), "signature_invalid");
  });

  it("refuses a token signed by another key under our kid", async () => {
    const rogue = await generateKeyPair(keys.alg);
    await expectInvalidToken(await verifierFor().verify(request(await signed({}, {}, rogue.privateKey))), "signature_invalid");
  });

  it("refuses a token expired beyond the 30 s tolerance and accepts one just inside it", async () => {
    const now = nowSeconds();
    vi.useFakeTimers({ toFake: ["Date"], now: now * 1000 });
    await expectInvalidToken(await verifierFor().verify(request(await signed({ iat: now - 330, exp: now - 30 }))), "expired");
    expect((await verifierFor().verify(request(await signed({ iat: now - 329, exp: now - 29 })))).ok).toBe(true);
  });

  it("refuses a real token once its exp has passed", async () => {
    const token = await realToken();
    const { exp } = decodeJwt(token);
    vi.useFakeTimers({ toFake: ["Date"], now: (exp! + 30) * 1000 });
    await expectInvalidToken(await verifierFor().verify(request(token)), "expired", token);
  });

  it("refuses a Bearer header with no token or with two", async () => {
    for (const authorization of ["Bearer", "Bearer ", "Bearer a b"]) {
      const req = new Request("https://mcp.example.test/mcp", { headers: { authorization } });
      await expectInvalidToken(await verifierFor().verify(req), "token_malformed");
    }
  });
});

describe("scope", () => {
  it("answers 403 insufficient_scope naming the scopes the request needs", async () => {
    const token = await realToken();
    const outcome = await verifierFor().verify(request(token), ["read", "admin"]);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect([outcome.response.status, outcome.reason]).toEqual([403, "insufficient_scope"]);
    expect(challenge(outcome.response)).toMatchObject({ error: "insufficient_scope", scope: "read admin", resource_metadata: PRM });
    expect(await outcome.response.text()).not.toContain(token);
  });

  it("does not take a scope name as a prefix of another", async () => {
    const outcome = await verifierFor().verify(request(await signed({ scope: "reader write" })), ["read"]);
    expect(outcome.ok ? 200 : outcome.response.status).toBe(403);
  });
});

describe("the KV revocation mirror", () => {
  it("refuses a token whose subject was revoked after it was issued, and accepts it without the binding", async () => {
    const sub = `verifier-revoked-${crypto.randomUUID()}`;
    const token = await realToken({ sub });
    const now = nowSeconds();
    await applyRevocations(env, [{ subject: { iss: world.idp.issuer, sub }, eventTime: now, channel: "admin", eventId: crypto.randomUUID(), eventType: "test" }], now, "test");
    await expectInvalidToken(await verifierFor({ revocations: env.CONFIG }).verify(request(token)), "revoked", token);
    expect((await verifierFor().verify(request(token))).ok).toBe(true);
  });

  it("accepts a token of that subject issued after the revocation", async () => {
    const sub = `verifier-reissued-${crypto.randomUUID()}`;
    const now = nowSeconds();
    await applyRevocations(env, [{ subject: { iss: world.idp.issuer, sub }, eventTime: now - 5, channel: "admin", eventId: crypto.randomUUID(), eventType: "test" }], now, "test");
    expect((await verifierFor({ revocations: env.CONFIG }).verify(request(await signed({ sub, iat: now - 4 })))).ok).toBe(true);
    await expectInvalidToken(await verifierFor({ revocations: env.CONFIG }).verify(request(await signed({ sub, iat: now - 5 }))), "revoked");
  });

  it("refuses a token revoked on its own (RFC 7009 mirror entry)", async () => {
    const token = await realToken();
    const { jti, exp } = decodeJwt(token);
    await mirrorDeniedToken(env, jti!, exp!, nowSeconds());
    await expectInvalidToken(await verifierFor({ revocations: env.CONFIG }).verify(request(token)), "revoked", token);
  });

  it("fails closed with 503 when the mirror cannot be read", async () => {
    const broken = { get: () => Promise.reject(new Error("KV down")) } as unknown as KVNamespace;
    const outcome = await verifierFor({ revocations: broken }).verify(request(await realToken()));
    expect(outcome.ok ? 200 : [outcome.response.status, outcome.reason]).toEqual([503, "revocations_unavailable"]);
  });
});

describe("keys and options", () => {
  it("answers 503, not invalid_token, when the JWKS cannot be fetched", async () => {
    const verifier = verifierFor({ jwks: { uri: JWKS_URL, fetch: async () => new Response("down", { status: 500 }) } });
    const outcome = await verifier.verify(request(await realToken()));
    expect(outcome.ok ? 200 : [outcome.response.status, outcome.reason, outcome.response.headers.has("www-authenticate")]).toEqual([503, "keys_unavailable", false]);
  });

  it("does not refetch the JWKS for unknown kids within the cooldown", async () => {
    let fetches = 0;
    const verifier = verifierFor({ jwks: { uri: JWKS_URL, fetch: (url, init) => (fetches++, exports.default.fetch(url, init)) } });
    for (let i = 0; i < 3; i++) await expectInvalidToken(await verifier.verify(request(await signed({}, { kid: `random-${i}` }))), "key_unknown");
    expect(fetches).toBe(1);
  });

  it.each([
    { name: "a clock tolerance over 60 s", change: { clockToleranceSeconds: 61 } },
    { name: "a relative resource_metadata URL", change: { resourceMetadataUrl: "/.well-known/oauth-protected-resource" } },
    { name: "an empty resource", change: { resource: "" } },
    { name: "a jwks_uri that is not http(s)", change: { jwks: { uri: "file:///etc/jwks.json" } } },
  ])("refuses at construction $name", ({ change }) => {
    expect(() => verifierFor(change as Partial<AccessTokenVerifierOptions>)).toThrow(TypeError);
  });
});
