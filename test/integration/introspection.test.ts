// POST /oauth2/introspect (RFC 7662) inside workerd with the real KV and SubjectShard: who may ask,
// what an active token reads as, and `{"active": false}` (and only that) for every kind of bad token.
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { SignJWT, decodeJwt, generateKeyPair } from "jose";
import { hashClientSecret } from "../../workers/authorization-server/client/secret";
import { handleIntrospection } from "../../workers/authorization-server/handlers/introspect";
import { addressSubject } from "../../workers/authorization-server/revocation/shard-key";
import { mintAccessToken } from "../../workers/authorization-server/tokens/access-token";
import { accessTokenKey } from "../../workers/authorization-server/tokens/inspect";
import { loadSigningKeys, type SigningKeys } from "../../workers/authorization-server/tokens/signing-keys";
import { basic, captureAudit, CLIENT_ID, CLIENT_SECRET, expectRefusal, ISSUER, JWT_BEARER, nowSeconds, OTHER_RESOURCE, RESOURCE, setupWorld, type World } from "../support/world";

const INTROSPECT_URL = `${ISSUER}/oauth2/introspect`;
const RS_SECRET = "rs-secret-for-tests-only-0123456789abcdef";
const CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

let world: World;
let audit: Map<string, Record<string, any>>;
let keys: SigningKeys;
beforeAll(async () => {
  world = await setupWorld();
  audit = captureAudit();
  keys = await loadSigningKeys(env.AT_SIGNING_KEYS);
  // Resource servers are clients registered for their own resource (and nothing else).
  await register("rs-1", { allowed_resources: [RESOURCE] });
  await register("rs-other", { allowed_resources: [OTHER_RESOURCE] });
  await register("client-unrestricted", {});
});
afterEach(() => {
  vi.useRealTimers();
});

async function register(clientId: string, extra: Record<string, unknown>): Promise<void> {
  const record = {
    client_id: clientId,
    status: "active",
    token_endpoint_auth_methods: ["client_secret_basic", "client_secret_post"],
    client_secrets: [{ hash: await hashClientSecret(RS_SECRET), created_at: "2026-11-01T00:00:00Z" }],
    grant_types: ["client_credentials"],
    ...extra,
  };
  await env.CONFIG.put(`client:v1:${clientId}`, JSON.stringify(record));
}

const introspect = (params: Record<string, string>, auth: string | null = basic("rs-1", RS_SECRET)) =>
  exports.default.fetch(INTROSPECT_URL, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...(auth !== null && { authorization: auth }) },
    body: new URLSearchParams(params),
  });

/** A real access token for CLIENT_ID at RESOURCE, scope "read write". */
async function freshToken(overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await world.exchange({ grant_type: JWT_BEARER, assertion: await world.assertion(overrides) });
  expect(res.status).toBe(200);
  return (await res.json<{ access_token: string }>()).access_token;
}

/** A token signed with the Worker's key, for a rule a real exchange cannot break. */
async function signed(claims: Record<string, unknown>, header: Record<string, unknown> = {}, key = keys.privateKey): Promise<string> {
  const t = nowSeconds();
  const payload = { iss: ISSUER, sub: "user-123", aud: RESOURCE, client_id: CLIENT_ID, scope: "read", iat: t, exp: t + 300, jti: crypto.randomUUID(), idp: world.idp.issuer, ...claims };
  return new SignJWT(payload).setProtectedHeader({ alg: keys.alg, kid: keys.kid, typ: "at+jwt", ...header }).sign(key);
}

async function expectInactive(res: Response, reason: string, token?: string): Promise<void> {
  expect(res.status).toBe(200);
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(await res.json()).toEqual({ active: false });
  const event = audit.get(res.headers.get("x-request-id") ?? "");
  expect({ type: event?.type, outcome: event?.outcome, reason: event?.reason }).toEqual({ type: "ema.introspection", outcome: "inactive", reason });
  if (token !== undefined) expect(JSON.stringify(event)).not.toContain(token);
}

async function shardOf(sub: string) {
  const address = await addressSubject({ iss: world.idp.issuer, sub });
  return { address, shard: env.SUBJECT_SHARD.get(env.SUBJECT_SHARD.idFromName(address.shardName)) };
}

describe("an active token", () => {
  it("reads as active with exactly the RFC 7662 members, for the resource server of its audience", async () => {
    const token = await freshToken();
    const claims = decodeJwt(token);
    const res = await introspect({ token });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.json()).toEqual({
      active: true,
      scope: "read write",
      client_id: CLIENT_ID,
      token_type: "Bearer",
      sub: "user-123",
      aud: RESOURCE,
      iss: ISSUER,
      exp: claims.exp,
      iat: claims.iat,
      jti: claims.jti,
      idp: world.idp.issuer,
    });
    const event = audit.get(res.headers.get("x-request-id") ?? "");
    expect(event).toMatchObject({ type: "ema.introspection", outcome: "active", client_id: "rs-1", token_client_id: CLIENT_ID, access_token_jti: claims.jti });
    expect(JSON.stringify(event)).not.toContain(token);
  });

  it("reads as active for the client it was issued to", async () => {
    const res = await introspect({ token: await freshToken() }, basic(CLIENT_ID, CLIENT_SECRET));
    expect(await res.json()).toMatchObject({ active: true, client_id: CLIENT_ID });
  });

  it("carries tenant when the token has one", async () => {
    const minted = await mintAccessToken({ issuer: ISSUER, idp: world.idp.issuer, sub: "tenant-user", clientId: CLIENT_ID, resource: RESOURCE, scopes: ["read"], ttlSeconds: 300, tenant: "acme" }, keys, nowSeconds());
    expect(await (await introspect({ token: minted.token })).json()).toMatchObject({ active: true, tenant: "acme", sub: "tenant-user" });
  });

  it("ignores token_type_hint, even refresh_token", async () => {
    expect(await (await introspect({ token: await freshToken(), token_type_hint: "refresh_token" })).json()).toMatchObject({ active: true });
  });

  it("accepts a private_key_jwt caller once per client assertion", async () => {
    const ca = await clientAssertion();
    const token = await freshToken();
    const params = { token, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: ca };
    await expectInactive(await introspect(params, null), "not_visible");
    await expectRefusal(await introspect(params, null), audit, { error: "invalid_client", reason: "client_assertion_replayed" });
  });
});

describe("inactive: only {\"active\": false}", () => {
  it("for a token whose subject was revoked after it was issued", async () => {
    const sub = `introspect-revoked-${crypto.randomUUID()}`;
    const token = await freshToken({ sub });
    const { address, shard } = await shardOf(sub);
    await shard.revokeSubject(address.subjectKey, nowSeconds());
    await expectInactive(await introspect({ token }), "subject_revoked", token);
  });

  it("for a token denied on its own, while its subject's other tokens stay active", async () => {
    const sub = `introspect-denied-${crypto.randomUUID()}`;
    const [token, sibling] = [await freshToken({ sub }), await freshToken({ sub })];
    const { jti, exp } = decodeJwt(token);
    const { shard } = await shardOf(sub);
    await shard.denyToken(await accessTokenKey(jti!), exp! + 60, nowSeconds());
    await expectInactive(await introspect({ token }), "token_revoked", token);
    expect(await (await introspect({ token: sibling })).json()).toMatchObject({ active: true });
  });

  it("from exp on, and active one second before", async () => {
    const token = await freshToken();
    const { exp } = decodeJwt(token);
    vi.useFakeTimers({ toFake: ["Date"], now: (exp! - 1) * 1000 });
    expect(await (await introspect({ token })).json()).toMatchObject({ active: true });
    vi.setSystemTime(exp! * 1000);
    await expectInactive(await introspect({ token }), "expired", token);
  });

  it("for a token whose payload was altered", async () => {
    const [h, p, s] = (await freshToken()).split(".");
    const claims = JSON.parse(atob(p!.replace(/-/g, "+").replace(/_/g, "/")));
    const altered = btoa(JSON.stringify({ ...claims, scope: "read write admin" })).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    await expectInactive(await introspect({ token: `${h}.${altered}.${s}` }), "signature_invalid");
  });

  it("for a token of another issuer, signed with its own key", async () => {
    const foreign = await generateKeyPair("ES256");
    const token = await new SignJWT({ client_id: CLIENT_ID, scope: "read", idp: world.idp.issuer, sub: "user-123", jti: "x" })
      .setProtectedHeader({ alg: "ES256", kid: "foreign-1", typ: "at+jwt" })
      .setIssuer("https://other-as.example.test")
      .setAudience(RESOURCE)
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(foreign.privateKey);
    await expectInactive(await introspect({ token }), "key_unknown");
  });

  it("for a token signed with our key but naming another issuer", async () => {
    await expectInactive(await introspect({ token: await signed({ iss: "https://other-as.example.test" }) }), "iss_mismatch");
  });

  it("for a JWT signed with our key that is not an access token (typ)", async () => {
    await expectInactive(await introspect({ token: await signed({}, { typ: "JWT" }) }), "typ_invalid");
  });

  it("for something that is not a JWT", async () => {
    await expectInactive(await introspect({ token: "opaque-token-value" }), "token_malformed");
  });

  it.each([
    { name: "a resource server of another audience", caller: "rs-other" },
    { name: "a client restricted to another resource", caller: "client-limited" },
    { name: "another client with no resource restriction", caller: "client-unrestricted" },
  ])("for $name", async ({ caller }) => {
    const secret = caller === "client-limited" ? CLIENT_SECRET : RS_SECRET;
    await expectInactive(await introspect({ token: await freshToken() }, basic(caller, secret)), "not_visible");
  });
});

describe("the request", () => {
  it("answers 401 invalid_client without caller authentication", async () => {
    const res = await introspect({ token: await freshToken() }, null);
    expect(res.headers.get("www-authenticate")).toContain("Basic");
    await expectRefusal(res, audit, { error: "invalid_client", reason: "client_auth_missing" });
  });

  it.each([
    { name: "a wrong secret", auth: basic("rs-1", "wrong-secret"), reason: "client_secret_mismatch" },
    { name: "an unknown client", auth: basic("rs-unknown", RS_SECRET), reason: "client_unknown" },
    { name: "a disabled client", auth: basic("client-disabled", CLIENT_SECRET), reason: "client_disabled" },
  ])("answers 401 invalid_client for $name", async ({ auth, reason }) => {
    await expectRefusal(await introspect({ token: await freshToken() }, auth), audit, { error: "invalid_client", reason });
  });

  it("answers 400 invalid_request without token", async () => {
    await expectRefusal(await introspect({}), audit, { error: "invalid_request", reason: "token_missing" });
  });

  it("answers 405 to GET", async () => {
    const res = await exports.default.fetch(INTROSPECT_URL);
    await expectRefusal(res, audit, { status: 405, error: "invalid_request", reason: "method_not_allowed" });
  });

  it("answers 503 temporarily_unavailable, never active, when the SubjectShard does not answer", async () => {
    const token = await freshToken();
    const down = { idFromName: env.SUBJECT_SHARD.idFromName.bind(env.SUBJECT_SHARD), get: () => ({ tokenState: () => Promise.reject(new Error("overloaded")) }) };
    const req = new Request(INTROSPECT_URL, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic("rs-1", RS_SECRET) },
      body: new URLSearchParams({ token }),
    });
    const res = await handleIntrospection(req, { ...env, SUBJECT_SHARD: down as any }, {} as ExecutionContext, "introspect-503");
    expect([res.status, res.headers.get("retry-after")]).toEqual([503, "5"]);
    expect(await res.json()).toMatchObject({ error: "temporarily_unavailable" });
    expect(audit.get("introspect-503")).toMatchObject({ outcome: "refused", reason: "state_unavailable" });
  });
});

async function clientAssertion(): Promise<string> {
  const now = nowSeconds();
  const key = world.clientJwtKey;
  return new SignJWT({ iss: "client-jwt", sub: "client-jwt", aud: ISSUER, jti: crypto.randomUUID(), iat: now, exp: now + 60 })
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .sign(key.privateKey);
}
