// POST /oauth2/revoke (RFC 7009) inside workerd with the real KV and SubjectShard: a client revokes
// its own token and introspection and the offline verifier then refuse it; anything else is a 200
// that changes nothing; a store failure is a 503 so the client retries.
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { SignJWT, decodeJwt, type JSONWebKeySet } from "jose";
import { hashClientSecret } from "../../workers/authorization-server/client/secret";
import { handleRevocation } from "../../workers/authorization-server/handlers/revoke";
import { accessTokenKey } from "../../workers/authorization-server/tokens/inspect";
import { isRevokedInMirror, tokenMirrorKey } from "../../workers/lib/revocation-mirror";
import { createAccessTokenVerifier } from "../../workers/lib/verifier";
import { basic, captureAudit, CLIENT_ID, CLIENT_SECRET, expectRefusal, ISSUER, JWT_BEARER, nowSeconds, RESOURCE, setupWorld, type World } from "../support/world";

const REVOKE_URL = `${ISSUER}/oauth2/revoke`;
const INTROSPECT_URL = `${ISSUER}/oauth2/introspect`;
const RS_SECRET = "rs-secret-for-tests-only-0123456789abcdef";

let world: World;
let audit: Map<string, Record<string, any>>;
beforeAll(async () => {
  world = await setupWorld();
  audit = captureAudit();
  const record = {
    client_id: "rs-1",
    status: "active",
    token_endpoint_auth_methods: ["client_secret_basic"],
    client_secrets: [{ hash: await hashClientSecret(RS_SECRET), created_at: "2026-11-01T00:00:00Z" }],
    grant_types: ["client_credentials"],
    allowed_resources: [RESOURCE],
  };
  await env.CONFIG.put("client:v1:rs-1", JSON.stringify(record));
});

const post = (url: string, params: Record<string, string>, auth: string | null) =>
  exports.default.fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...(auth !== null && { authorization: auth }) },
    body: new URLSearchParams(params),
  });
const revoke = (params: Record<string, string>, auth: string | null = basic(CLIENT_ID, CLIENT_SECRET)) => post(REVOKE_URL, params, auth);
const introspect = async (token: string) => (await post(INTROSPECT_URL, { token }, basic("rs-1", RS_SECRET))).json<{ active: boolean }>();
const mirrored = (token: string) => {
  const c = decodeJwt(token) as { idp: string; sub: string; jti: string; iat: number };
  return isRevokedInMirror(env.CONFIG, c);
};

async function freshToken(overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await world.exchange({ grant_type: JWT_BEARER, assertion: await world.assertion(overrides) });
  expect(res.status).toBe(200);
  return (await res.json<{ access_token: string }>()).access_token;
}

/** Asserts the 200 with an empty body RFC 7009 §2.2 prescribes, and the audit outcome behind it. */
async function expectDone(res: Response, outcome: "revoked" | "ignored", reason?: string): Promise<Record<string, any>> {
  expect([res.status, await res.text()]).toEqual([200, ""]);
  const event = audit.get(res.headers.get("x-request-id") ?? "");
  expect({ type: event?.type, outcome: event?.outcome, reason: event?.reason }).toEqual({ type: "ema.revocation", outcome, reason });
  return event!;
}

describe("revoking", () => {
  it("revokes the caller's own token: 200, then introspection reads inactive and the mirror has it", async () => {
    const token = await freshToken();
    expect(await introspect(token)).toMatchObject({ active: true });
    const event = await expectDone(await revoke({ token }), "revoked");
    expect(event).toMatchObject({ channel: "token_revocation", client_id: CLIENT_ID, sub: "user-123", iss: world.idp.issuer, access_token_jti: decodeJwt(token).jti, mirrored: true });
    expect(JSON.stringify(event)).not.toContain(token);
    expect(await introspect(token)).toEqual({ active: false });
    expect(await mirrored(token)).toBe(true);
  });

  it("makes the offline verifier with the KV binding refuse the token", async () => {
    const token = await freshToken();
    const jwks = await (await exports.default.fetch(`${ISSUER}/.well-known/jwks.json`)).json<JSONWebKeySet>();
    const verifier = createAccessTokenVerifier({ issuer: ISSUER, resource: RESOURCE, resourceMetadataUrl: "https://mcp.example.test/.well-known/oauth-protected-resource", jwks, revocations: env.CONFIG });
    const req = () => new Request(RESOURCE, { headers: { authorization: `Bearer ${token}` } });
    expect((await verifier.verify(req())).ok).toBe(true);
    await expectDone(await revoke({ token }), "revoked");
    const after = await verifier.verify(req());
    expect(after.ok ? 200 : [after.response.status, after.reason]).toEqual([401, "revoked"]);
  });

  it("revokes only that token, not the subject's others", async () => {
    const sub = `revoke-one-${crypto.randomUUID()}`;
    const [token, sibling] = [await freshToken({ sub }), await freshToken({ sub })];
    await expectDone(await revoke({ token }), "revoked");
    expect([await introspect(token), await introspect(sibling)]).toEqual([{ active: false }, expect.objectContaining({ active: true })]);
  });

  it("searches access tokens whatever the hint, refresh_token included", async () => {
    const token = await freshToken();
    await expectDone(await revoke({ token, token_type_hint: "refresh_token" }), "revoked");
    expect(await introspect(token)).toEqual({ active: false });
  });

  it("answers a second revocation of the same token the same way", async () => {
    const token = await freshToken();
    await expectDone(await revoke({ token }), "revoked");
    await expectDone(await revoke({ token }), "revoked");
  });

  it("lets a private_key_jwt client revoke its own token, once per client assertion", async () => {
    const now = nowSeconds();
    const key = world.clientJwtKey;
    const ca = async () =>
      new SignJWT({ iss: "client-jwt", sub: "client-jwt", aud: ISSUER, jti: crypto.randomUUID(), iat: now, exp: now + 60 }).setProtectedHeader({ alg: key.alg, kid: key.kid }).sign(key.privateKey);
    const exchanged = await world.exchange(
      { grant_type: JWT_BEARER, assertion: await world.assertion({ client_id: "client-jwt" }), client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: await ca() },
      { auth: null },
    );
    const { access_token: token } = await exchanged.json<{ access_token: string }>();
    const params = { token, client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: await ca() };
    await expectDone(await revoke(params, null), "revoked");
    await expectRefusal(await revoke(params, null), audit, { error: "invalid_client", reason: "client_assertion_replayed" });
    expect(await introspect(token)).toEqual({ active: false });
  });
});

describe("nothing to revoke: 200 and no change", () => {
  it("for a string that is not one of our tokens", async () => {
    await expectDone(await revoke({ token: "no-such-token" }), "ignored", "token_malformed");
  });

  it("for another client's token, which stays active and unmirrored", async () => {
    const token = await freshToken();
    await expectDone(await revoke({ token }, basic("rs-1", RS_SECRET)), "ignored", "not_owner");
    expect(await introspect(token)).toMatchObject({ active: true });
    expect(await mirrored(token)).toBe(false);
  });

  it("for a token whose payload was altered to name the caller", async () => {
    const [h, p, s] = (await freshToken()).split(".");
    const claims = JSON.parse(atob(p!.replace(/-/g, "+").replace(/_/g, "/")));
    const altered = btoa(JSON.stringify({ ...claims, client_id: "rs-1" })).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    await expectDone(await revoke({ token: `${h}.${altered}.${s}` }, basic("rs-1", RS_SECRET)), "ignored", "signature_invalid");
  });
});

describe("the request", () => {
  it("answers 401 invalid_client without client authentication, and revokes nothing", async () => {
    const token = await freshToken();
    await expectRefusal(await revoke({ token }, null), audit, { error: "invalid_client", reason: "client_auth_missing" });
    expect(await introspect(token)).toMatchObject({ active: true });
  });

  it("answers 401 invalid_client for a wrong secret", async () => {
    await expectRefusal(await revoke({ token: await freshToken() }, basic(CLIENT_ID, "wrong")), audit, { error: "invalid_client", reason: "client_secret_mismatch" });
  });

  it("answers 400 invalid_request without token", async () => {
    await expectRefusal(await revoke({ token_type_hint: "access_token" }), audit, { error: "invalid_request", reason: "token_missing" });
  });
});

describe("store failures: 503, so the client retries", () => {
  const request = (token: string) =>
    new Request(REVOKE_URL, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic(CLIENT_ID, CLIENT_SECRET) },
      body: new URLSearchParams({ token }),
    });

  it("when the SubjectShard does not answer, and nothing is mirrored", async () => {
    const token = await freshToken();
    const down = { idFromName: env.SUBJECT_SHARD.idFromName.bind(env.SUBJECT_SHARD), get: () => ({ denyToken: () => Promise.reject(new Error("overloaded")) }) };
    const res = await handleRevocation(request(token), { ...env, SUBJECT_SHARD: down as any }, {} as ExecutionContext, "revoke-shard-down");
    expect([res.status, res.headers.get("retry-after")]).toEqual([503, "5"]);
    expect(await res.json()).toMatchObject({ error: "temporarily_unavailable" });
    expect(audit.get("revoke-shard-down")).toMatchObject({ outcome: "refused", reason: "state_unavailable" });
    expect(await mirrored(token)).toBe(false);
  });

  it("when the mirror write fails; the retry then completes it", async () => {
    const token = await freshToken();
    const kv = env.CONFIG;
    const failingPuts = new Proxy(kv, {
      get: (target, name) => (name === "put" ? () => Promise.reject(new Error("KV down")) : (target as any)[name].bind(target)),
    });
    const res = await handleRevocation(request(token), { ...env, CONFIG: failingPuts }, {} as ExecutionContext, "revoke-mirror-down");
    expect(res.status).toBe(503);
    expect(audit.get("revoke-mirror-down")).toMatchObject({ outcome: "refused", reason: "state_unavailable", detail: { detail: "revocation_mirror" } });
    expect(await mirrored(token)).toBe(false);
    await expectDone(await revoke({ token }), "revoked");
    expect(await mirrored(token)).toBe(true);
  });
});

it("keys a token's shard deny entry and its KV mirror entry by the same digest", async () => {
  const jti = crypto.randomUUID();
  expect(await tokenMirrorKey(jti)).toBe(`revoked:v1:token:${await accessTokenKey(jti)}`);
});
