// Fault injection inside workerd (issue 7): every fault the authorization server must survive, and
// what it answers. The IdP's JWKS host fails on purpose (test/support/idp-server.ts); KV and the
// SubjectShard fail through wrappers around the real bindings (test/support/faults.ts), called via
// the Worker's default export. Each row states the fault and the expected outcome; several rows
// also recover and show that nothing was lost or spent.
//
// | Fault                                              | Expected                                                          |
// |----------------------------------------------------|-------------------------------------------------------------------|
// | SubjectShard down (overloaded / reset / network)   | token: 503 temporarily_unavailable + Retry-After, jti not spent   |
// | SubjectShard commits, reply lost                   | token: 503; the retry is `replayed` (needs a new ID-JAG)          |
// | SubjectShard down during a webhook (4 channels)    | 503, nothing stored or mirrored; the redelivery lands             |
// | UL: only the logout-jti ledger down                | 503 before any revocation; the redelivery lands                   |
// | UL: only the subject's shard down                  | 503; the same JWT is then jti_reused (known limit), a new one lands |
// | SubjectShard down: introspection / RFC 7009 revoke | 503, never `active`                                               |
// | KV policy unreadable, nothing cached               | 503 on token, Okta hook, SSF, Universal Logout, admin             |
// | KV policy unreadable, last good in memory          | the last good policy serves for 600 s, then 503                   |
// | KV client record unreadable                        | 503 config_unavailable (token, introspection)                     |
// | KV unreadable and unwritable, warm isolate         | token exchange still granted (memory caches)                      |
// | KV JWKS copy unreadable / unwritable               | keys fetched from the IdP, granted                                |
// | KV mirror write fails after the shard committed    | acknowledged (the shard is the truth), audit `mirrored: false`    |
// | KV email index unreadable (UL, SSF email subject)  | 503, nothing acknowledged                                         |
// | JWKS 500 / garbage / oversized / redirect / hang / trickle, nothing cached | 503 jwks_unavailable, no refetch in 30 s  |
// | JWKS slow but within the 5 s deadline              | granted                                                           |
// | JWKS down, last good set cached (≤ 24 h)           | keeps serving; past 24 h 503                                      |
// | JWKS rotation mid-run                              | new kid refused within the 30 s cool-down, accepted after one refetch; removed kid refused |
// | Clock skew at ±60 s                                | at the limit accepted, one second past refused                    |
import { env } from "cloudflare:workers";
import { compactVerify } from "jose";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { checkValidityWindow, readIdJagClaims } from "../../workers/authorization-server/assertion/claims";
import { forgetClientsForTests } from "../../workers/authorization-server/config/client-store";
import { forgetPolicyForTests, loadPolicy, POLICY_MAX_STALE_SECONDS } from "../../workers/authorization-server/config/policy-store";
import { JWKS_REFETCH_COOLDOWN_SECONDS, JWKS_MAX_STALE_SECONDS, resolveVerificationKey } from "../../workers/authorization-server/jwks/cache";
import { JWKS_FETCH_TIMEOUT_MS } from "../../workers/authorization-server/jwks/fetch";
import { sha256Base64Url } from "../../workers/lib/digest";
import { KV_KEYS, type TrustedIssuer } from "../../workers/lib/kv-records";
import { emailIndexKey, subjectMirrorKey, type SubjectRevocationRecord } from "../../workers/lib/revocation-mirror";
import { hashSharedSecret } from "../../workers/lib/shared-secret";
import { callWorker, faultyEnv, quietly, type Faults, type ShardFailure } from "../support/faults";
import { captureAuditLog, envelope, HOOK_SECRET, hookUrl, iso, logEvent, logoutUrl, storedRevokedBefore, uniqueSub, type AuditLog } from "../support/okta";
import { sessionRevoked, setClaims, signSet, ssfUrl, SESSION_REVOKED } from "../support/ssf";
import { createTestIdp, makeKey, type HostMode, type TestIdp } from "../support/test-idp";
import { basic, CLIENT_ID, CLIENT_SECRET, expectRefusal, ISSUER, JWT_BEARER, nowSeconds, setupWorld, TOKEN_URL, type World } from "../support/world";

const LOGOUT_CLIENT = "0oaEMAEDGE0001";
const ADMIN_TOKEN = "test-admin-token-0123456789abcdef0123456789";

let world: World;
let okta: TestIdp;
let log: AuditLog;

beforeAll(async () => {
  log = captureAuditLog();
  world = await setupWorld();
  okta = await createTestIdp();
  // One IdP with every revocation channel, so each channel's fault is the only difference.
  await world.trust(okta, "okta", {
    issuer: {
      revocation: {
        okta_event_hook: { secret_sha256: [await hashSharedSecret(HOOK_SECRET)] },
        ssf: {},
        universal_logout: { client_id: LOGOUT_CLIENT },
      },
    },
  });
});

afterEach(() => {
  // A test that made the policy unreadable must not leave the isolate without one.
  forgetPolicyForTests();
  forgetClientsForTests();
});

// ---------------------------------------------------------------------------------------------
// Requests, built as factories so a redelivery sends exactly the same bytes.

const tokenRequest = (assertion: string) => () =>
  new Request(TOKEN_URL, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic(CLIENT_ID, CLIENT_SECRET) },
    body: new URLSearchParams({ grant_type: JWT_BEARER, assertion }),
  });

const formRequest = (path: string, token: string) => () =>
  new Request(`${ISSUER}${path}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic(CLIENT_ID, CLIENT_SECRET) },
    body: new URLSearchParams({ token }),
  });

const oktaHookRequest = (body: string) => () =>
  new Request(hookUrl("okta"), { method: "POST", headers: { "content-type": "application/json", authorization: HOOK_SECRET }, body });

const ssfRequest = (set: string) => () => new Request(ssfUrl("okta"), { method: "POST", headers: { "content-type": "application/secevent+jwt" }, body: set });

const logoutRequest = (jwt: string, subId: Record<string, unknown>) => () =>
  new Request(logoutUrl("okta"), { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${jwt}` }, body: JSON.stringify({ sub_id: subId }) });

const adminRequest = (sub: string) => () =>
  new Request(`${ISSUER}/admin/revocations`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ iss: okta.issuer, sub }),
  });

async function logoutJwt(): Promise<string> {
  const now = nowSeconds();
  const claims = { iss: okta.issuer, sub: LOGOUT_CLIENT, aud: logoutUrl("okta"), jti: crypto.randomUUID(), iat: now, nbf: now - 300, exp: now + 300 };
  return okta.sign(claims, { header: { typ: "global-token-revocation+jwt" } });
}

/** An ID-JAG for `sub` from the Okta org, issued at `iat`. */
const idJag = (sub: string, iat: number, extra: Record<string, unknown> = {}) => world.assertion({ sub, iat, exp: iat + 300, ...extra }, { from: okta });
const redeem = async (sub: string, iat: number) => world.exchange({ grant_type: JWT_BEARER, assertion: await idJag(sub, iat) });
const mirrorOf = async (sub: string) => env.CONFIG.get<SubjectRevocationRecord>(await subjectMirrorKey({ iss: okta.issuer, sub }), "json");
const auditOf = (res: Response) => log.last.get(res.headers.get("x-request-id") ?? "");
const linesOf = (res: Response) => log.lines.get(res.headers.get("x-request-id") ?? "") ?? [];

/** A 503 that tells the caller to come back, and grants nothing. */
async function expectUnavailable(res: Response, expected: { reason?: string; retryAfter?: boolean } = {}): Promise<void> {
  const text = await res.text();
  expect(res.status).toBe(503);
  if (expected.retryAfter !== false) expect(res.headers.get("retry-after")).toBe("5");
  if (text !== "") {
    const body = JSON.parse(text);
    expect(body).not.toHaveProperty("access_token");
    expect(body).not.toHaveProperty("active");
    if ("error" in body) expect(body.error).toBe("temporarily_unavailable");
  }
  if (expected.reason !== undefined) expect(auditOf(res)?.reason).toBe(expected.reason);
}

/**
 * Every revocation channel: a delivery for `sub` (built once, redelivered verbatim) whose event is
 * at `t − 30` where the channel carries a time, what acknowledges it, and which time takes effect.
 */
function channelTable() {
  return [
    {
      name: "Okta Event Hook",
      delivery: async (sub: string, t: number) => oktaHookRequest(JSON.stringify(envelope([logEvent(sub, { published: iso(t - 30) })]))),
      acknowledged: 204,
      effective: "event_time" as const,
    },
    { name: "SSF SET", delivery: async (sub: string, t: number) => ssfRequest(await signSet(okta, sessionRevoked(okta, sub, t - 30))), acknowledged: 202, effective: "event_time" as const },
    {
      name: "Universal Logout",
      delivery: async (sub: string, _t: number) => logoutRequest(await logoutJwt(), { format: "iss_sub", iss: okta.issuer, sub }),
      acknowledged: 204,
      effective: "receipt" as const,
    },
    { name: "admin revocation", delivery: async (sub: string, _t: number) => adminRequest(sub), acknowledged: 200, effective: "receipt" as const },
  ];
}

// ---------------------------------------------------------------------------------------------

describe("the SubjectShard is unavailable", () => {
  const outages: ShardFailure[] = ["overloaded", "reset", "network"];

  it.each(outages)("token exchange, shard %s → 503 temporarily_unavailable + Retry-After; the jti is not spent, so the same ID-JAG works after recovery", async (kind) => {
    const { env: faulty, faults } = faultyEnv();
    const request = tokenRequest(await idJag(uniqueSub(), nowSeconds()));
    faults.shard = kind;
    const down = await callWorker(request(), faulty);
    expect(faults.shardCalls).toEqual(["redeem"]);
    await expectRefusal(down.clone(), log.last, { status: 503, error: "temporarily_unavailable", reason: "state_unavailable" });
    await expectUnavailable(down);

    faults.shard = undefined;
    const recovered = await callWorker(request(), faulty);
    expect(recovered.status).toBe(200);
    expect(await recovered.json()).toHaveProperty("access_token");
    await expectRefusal(await callWorker(request(), faulty), log.last, { error: "invalid_grant", reason: "replayed" });
  });

  it("token exchange, shard commits but the reply is lost → 503; the retry reads replayed (the client needs a new ID-JAG)", async () => {
    const { env: faulty, faults } = faultyEnv();
    const request = tokenRequest(await idJag(uniqueSub(), nowSeconds()));
    faults.shard = "reply_lost";
    await expectUnavailable(await callWorker(request(), faulty), { reason: "state_unavailable" });
    faults.shard = undefined;
    await expectRefusal(await callWorker(request(), faulty), log.last, { error: "invalid_grant", reason: "replayed" });
  });

  const webhookCases = channelTable().flatMap((channel) => (["overloaded", "network"] as const).map((kind) => ({ ...channel, kind })));

  it.each(webhookCases)("$name, shard $kind → 503, nothing stored or mirrored; the redelivery lands (revoked_before and mirror)", async ({ delivery, acknowledged, effective, kind }) => {
    const { env: faulty, faults } = faultyEnv();
    const sub = uniqueSub();
    const t = nowSeconds();
    const request = await delivery(sub, t);

    faults.shard = kind;
    const down = await callWorker(request(), faulty);
    expect(faults.shardCalls.length).toBeGreaterThan(0);
    await expectUnavailable(down, { retryAfter: false });
    expect(linesOf(down).filter((l) => l.type === "ema.revocation")).toEqual([]);
    expect(await storedRevokedBefore({ iss: okta.issuer, sub })).toBeUndefined();
    expect(await mirrorOf(sub)).toBeNull();
    expect((await redeem(sub, t - 40)).status).toBe(200); // not revoked

    faults.shard = undefined;
    const redelivered = await callWorker(request(), faulty);
    expect(redelivered.status).toBe(acknowledged);
    const stored = await storedRevokedBefore({ iss: okta.issuer, sub });
    if (effective === "event_time") expect(stored).toBe(t - 30);
    else expect(stored).toBeGreaterThanOrEqual(t);
    expect((await mirrorOf(sub))?.revoked_before).toBe(stored);
    await expectRefusal(await redeem(sub, t - 35), log.last, { error: "invalid_grant", reason: "subject_revoked" });
  });

  // Universal Logout touches two objects: the issuer's logout-jti ledger, then the subject's shard.
  it("Universal Logout, only the logout-jti ledger down → 503 before any revocation; the redelivery lands", async () => {
    const { env: faulty, faults } = faultyEnv();
    const sub = uniqueSub();
    const t = nowSeconds();
    const request = logoutRequest(await logoutJwt(), { format: "iss_sub", iss: okta.issuer, sub });
    Object.assign(faults, { shard: "overloaded", shardMethods: ["consumeOnce"] });
    await expectUnavailable(await callWorker(request(), faulty), { retryAfter: false });
    expect(faults.shardCalls).toEqual(["consumeOnce"]);
    expect(await storedRevokedBefore({ iss: okta.issuer, sub })).toBeUndefined();
    faults.shard = undefined;
    expect((await callWorker(request(), faulty)).status).toBe(204);
    expect(await storedRevokedBefore({ iss: okta.issuer, sub })).toBeGreaterThanOrEqual(t);
  });

  // Known limit: the jti was spent before the revocation failed, so the same JWT cannot be
  // redelivered. Okta never resends a Universal Logout (it reports the failure; the admin's next
  // logout carries a new jti), so what is lost is only a replay of the same request.
  it("Universal Logout, only the subject's shard down → 503; the same JWT then reads jti_reused, a new logout lands", async () => {
    const { env: faulty, faults } = faultyEnv();
    const sub = uniqueSub();
    const t = nowSeconds();
    const subId = { format: "iss_sub", iss: okta.issuer, sub };
    const request = logoutRequest(await logoutJwt(), subId);
    Object.assign(faults, { shard: "overloaded", shardMethods: ["applyRevocations"] });
    await expectUnavailable(await callWorker(request(), faulty), { retryAfter: false });
    expect(faults.shardCalls).toEqual(["consumeOnce", "applyRevocations"]);
    faults.shard = undefined;
    const replay = await callWorker(request(), faulty);
    expect([replay.status, auditOf(replay)?.reason]).toEqual([401, "jti_reused"]);
    expect(await storedRevokedBefore({ iss: okta.issuer, sub })).toBeUndefined();
    expect((await callWorker(logoutRequest(await logoutJwt(), subId)(), faulty)).status).toBe(204);
    expect(await storedRevokedBefore({ iss: okta.issuer, sub })).toBeGreaterThanOrEqual(t);
  });

  it.each([
    { name: "introspection", path: "/oauth2/introspect", method: "tokenState" },
    { name: "RFC 7009 revocation", path: "/oauth2/revoke", method: "denyToken" },
  ])("$name, shard overloaded → 503 temporarily_unavailable, never an answer about the token", async ({ path, method }) => {
    const granted = await redeem(uniqueSub(), nowSeconds());
    const { access_token } = await granted.json<{ access_token: string }>();
    const { env: faulty, faults } = faultyEnv();
    faults.shard = "overloaded";
    const res = await callWorker(formRequest(path, access_token)(), faulty);
    expect(faults.shardCalls).toEqual([method]);
    await expectUnavailable(res, { reason: "state_unavailable" });
  });
});

// ---------------------------------------------------------------------------------------------

describe("KV fails", () => {
  const allReadsFail = (faults: Faults, prefix?: string) => (faults.kv = { get: true, list: true, ...(prefix !== undefined && { prefix }) });

  it.each([
    { name: "token exchange", request: async () => tokenRequest(await idJag(uniqueSub(), nowSeconds()))() },
    { name: "Okta Event Hook", request: async () => oktaHookRequest(JSON.stringify(envelope([logEvent(uniqueSub())])))() },
    { name: "SSF SET", request: async () => ssfRequest(await signSet(okta, sessionRevoked(okta, uniqueSub(), nowSeconds())))() },
    { name: "Universal Logout", request: async () => logoutRequest(await logoutJwt(), { format: "iss_sub", iss: okta.issuer, sub: uniqueSub() })() },
    { name: "admin revocation", request: async () => adminRequest(uniqueSub())() },
  ])("$name with policy:v1 unreadable and no policy in memory → 503, never 500 or a 4xx", async ({ request }) => {
    const { env: faulty, faults } = faultyEnv();
    const req = await request();
    forgetPolicyForTests();
    allReadsFail(faults, "policy:");
    const res = await quietly(() => callWorker(req, faulty));
    expect(faults.shardCalls).toEqual([]);
    await expectUnavailable(res, { retryAfter: false });
  });

  it("token exchange with policy:v1 unreadable and no policy in memory answers config_unavailable with Retry-After", async () => {
    const { env: faulty, faults } = faultyEnv();
    const req = tokenRequest(await idJag(uniqueSub(), nowSeconds()))();
    forgetPolicyForTests();
    allReadsFail(faults, "policy:");
    const res = await quietly(() => callWorker(req, faulty));
    await expectRefusal(res.clone(), log.last, { status: 503, error: "temporarily_unavailable", reason: "config_unavailable" });
    await expectUnavailable(res);
  });

  it(`serves the last good policy from memory while policy:v1 is unreadable, for ${POLICY_MAX_STALE_SECONDS} s, then 503`, async () => {
    const { env: faulty, faults } = faultyEnv();
    const T = nowSeconds();
    forgetPolicyForTests();
    const good = await loadPolicy(env.CONFIG, ISSUER, T);
    expect(good.ok).toBe(true);
    allReadsFail(faults);
    const served = await quietly(() => loadPolicy(faulty.CONFIG, ISSUER, T + POLICY_MAX_STALE_SECONDS - 1));
    expect(served.ok && good.ok && served.value.sha256 === good.value.sha256).toBe(true);
    const expired = await quietly(() => loadPolicy(faulty.CONFIG, ISSUER, T + POLICY_MAX_STALE_SECONDS));
    expect(expired).toEqual({ ok: false, error: { reason: "config_unavailable", detail: "kv_read_failed" } });
  });

  it.each([
    { name: "token exchange", request: async () => tokenRequest(await idJag(uniqueSub(), nowSeconds()))(), reason: "config_unavailable" },
    { name: "introspection", request: async () => formRequest("/oauth2/introspect", "x.y.z")(), reason: "config_unavailable" },
  ])("$name with the client record unreadable → 503 $reason", async ({ request, reason }) => {
    const { env: faulty, faults } = faultyEnv();
    const req = await request();
    forgetClientsForTests();
    allReadsFail(faults, "client:");
    const res = await callWorker(req, faulty);
    await expectUnavailable(res, { reason });
    expect(auditOf(res)?.detail).toMatchObject({ detail: "client_store" });
  });

  it("grants an exchange while KV is entirely down, from a warm isolate's policy, client and key caches", async () => {
    const { env: faulty, faults } = faultyEnv();
    expect((await redeem(uniqueSub(), nowSeconds())).status).toBe(200); // warms policy, client, keys
    faults.kv = { get: true, list: true, put: true, delete: true };
    const res = await callWorker(tokenRequest(await idJag(uniqueSub(), nowSeconds()))(), faulty);
    expect(res.status).toBe(200);
  });

  it("fetches keys from the IdP when the KV copy of the JWKS can be neither read nor written", async () => {
    const idp = await createTestIdp();
    await world.trust(idp, `jwks-kv-${idp.id}`);
    const { env: faulty, faults } = faultyEnv();
    faults.kv = { get: true, put: true, prefix: "jwks:" };
    const res = await callWorker(tokenRequest(await world.assertion({}, { from: idp }))(), faulty);
    expect(res.status).toBe(200);
    expect((await idp.stats()).jwksFetches).toBe(1);
    expect(await env.CONFIG.get(KV_KEYS.jwks(await sha256Base64Url(idp.issuer)))).toBeNull();
  });

  // The shard is the source of truth and the exchange and introspection read it, so a committed
  // revocation is acknowledged even when its KV mirror write fails (revocation/apply.ts): answering
  // 5xx would make the IdP resend something already in force, and KV's one-write-per-key-per-second
  // limit would turn bursts for one user into spurious failures. The audit line says
  // `mirrored: false`; offline verifiers then fall back to the access token's lifetime.
  it.each(channelTable())("$name with the mirror write failing after the shard committed → acknowledged, stored, audited mirrored: false", async ({ delivery, acknowledged }) => {
    const { env: faulty, faults } = faultyEnv();
    const sub = uniqueSub();
    const t = nowSeconds();
    faults.kv = { put: true, prefix: "revoked:" };
    const res = await callWorker((await delivery(sub, t))(), faulty);
    expect(res.status).toBe(acknowledged);
    expect(await storedRevokedBefore({ iss: okta.issuer, sub })).toBeGreaterThanOrEqual(t - 30);
    expect(await mirrorOf(sub)).toBeNull();
    expect(linesOf(res).filter((l) => l.type === "ema.revocation")).toEqual([expect.objectContaining({ sub, mirrored: false })]);
    await expectRefusal(await redeem(sub, t - 35), log.last, { error: "invalid_grant", reason: "subject_revoked" });
  });

  it("an Okta redelivery after a failed mirror write changes nothing in the shard and writes the mirror", async () => {
    const { env: faulty, faults } = faultyEnv();
    const sub = uniqueSub();
    const t = nowSeconds();
    const request = oktaHookRequest(JSON.stringify(envelope([logEvent(sub, { published: iso(t - 30) })])));
    faults.kv = { put: true, prefix: "revoked:" };
    expect((await callWorker(request(), faulty)).status).toBe(204);
    faults.kv = undefined;
    const again = await callWorker(request(), faulty);
    expect(again.status).toBe(204);
    expect(linesOf(again).filter((l) => l.type === "ema.revocation")).toEqual([expect.objectContaining({ duplicate: true, mirrored: true })]);
    expect((await mirrorOf(sub))?.revoked_before).toBe(t - 30);
  });

  it.each([
    { name: "Universal Logout", request: async (email: string) => logoutRequest(await logoutJwt(), { format: "email", email })() },
    {
      name: "SSF SET",
      request: async (email: string) => ssfRequest(await signSet(okta, setClaims(okta, { type: SESSION_REVOKED, body: { event_timestamp: nowSeconds() } }, { format: "email", email })))(),
    },
  ])("$name naming an email while the email index is unreadable → 503, nothing acknowledged", async ({ request }) => {
    const email = `${uniqueSub()}@acme.example`;
    const sub = uniqueSub();
    await env.CONFIG.put(await emailIndexKey(okta.issuer, email), JSON.stringify({ iss: okta.issuer, sub }));
    const { env: faulty, faults } = faultyEnv();
    const req = await request(email);
    faults.kv = { get: true, prefix: "email:" };
    const res = await callWorker(req, faulty);
    await expectUnavailable(res, { retryAfter: false });
    expect(await storedRevokedBefore({ iss: okta.issuer, sub })).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------

describe("the IdP's JWKS endpoint fails", () => {
  /** A fresh, trusted IdP: nothing of it is cached anywhere. */
  async function freshIdp(): Promise<TestIdp> {
    const idp = await createTestIdp();
    await world.trust(idp, `jwks-${idp.id}`);
    return idp;
  }
  const exchangeFrom = async (idp: TestIdp, options: { kid?: string } = {}) => {
    const key = idp.keys.find((k) => k.kid === (options.kid ?? idp.keys[0]!.kid)) ?? idp.keys[0]!;
    return world.exchange({ grant_type: JWT_BEARER, assertion: await world.assertion({ sub: uniqueSub() }, { from: idp, key }) });
  };

  it.each(["status_500", "garbage", "oversized", "redirect", "hang", "trickle"] as const)(
    "answers %s with nothing cached → 503 jwks_unavailable, and asks the IdP no more within the cool-down",
    async (mode) => {
      const idp = await freshIdp();
      await idp.setMode(mode, mode === "redirect" ? { location: idp.jwksUri } : {});
      const started = Date.now();
      await expectRefusal(await exchangeFrom(idp), log.last, { status: 503, error: "temporarily_unavailable", reason: "jwks_unavailable" });
      const elapsed = Date.now() - started;
      // A stalled IdP costs the request the fetch deadline, no more.
      if (mode === "hang" || mode === "trickle") expect(elapsed).toBeGreaterThanOrEqual(JWKS_FETCH_TIMEOUT_MS - 500);
      expect(elapsed).toBeLessThan(JWKS_FETCH_TIMEOUT_MS + 2_000);
      await idp.setMode("ok");
      await expectRefusal(await exchangeFrom(idp), log.last, { status: 503, error: "temporarily_unavailable", reason: "jwks_unavailable" });
      expect((await idp.stats()).jwksFetches).toBe(1);
    },
    JWKS_FETCH_TIMEOUT_MS * 2 + 5_000,
  );

  it("grants when the IdP answers slowly but within the 5 s deadline", async () => {
    const idp = await freshIdp();
    await idp.setMode("slow", { delayMs: 1_500 });
    expect((await exchangeFrom(idp)).status).toBe(200);
  });

  /** Writes the key set another isolate would have shared through KV, with the given age. */
  async function shareSet(idp: TestIdp, keys: TestIdp["keys"], ages: { fetchedAgo: number; freshFor: number }): Promise<void> {
    const now = nowSeconds();
    const record = { issuer: idp.issuer, jwks_uri: idp.jwksUri, fetched_at: now - ages.fetchedAgo, fresh_until: now + ages.freshFor, jwks: { keys: keys.map((k) => k.publicJwk) } };
    await env.CONFIG.put(KV_KEYS.jwks(await sha256Base64Url(idp.issuer)), JSON.stringify(record));
  }

  it("keeps serving a last good set past its freshness while the IdP answers 500 (end to end, set from KV)", async () => {
    const idp = await freshIdp();
    await shareSet(idp, idp.keys, { fetchedAgo: 700, freshFor: -100 });
    await idp.setMode("status_500");
    expect((await exchangeFrom(idp)).status).toBe(200);
    expect((await idp.stats()).jwksFetches).toBe(1); // it did try the IdP
  });

  it("refuses with 503 once the last good set is older than 24 h (end to end, set from KV)", async () => {
    const idp = await freshIdp();
    await shareSet(idp, idp.keys, { fetchedAgo: JWKS_MAX_STALE_SECONDS + 10, freshFor: -100 });
    await idp.setMode("status_500");
    await expectRefusal(await exchangeFrom(idp), log.last, { status: 503, error: "temporarily_unavailable", reason: "jwks_unavailable" });
  });

  it.each(["status_500", "hang", "trickle", "garbage", "oversized", "redirect"] as const satisfies readonly HostMode[])(
    "keeps serving the cached set while the IdP answers %s, up to 24 h",
    async (mode) => {
      const idp = await createTestIdp();
      const issuer: TrustedIssuer = { id: idp.id, issuer: idp.issuer, jwks_uri: idp.jwksUri };
      const T = 1_900_000_000;
      const resolve = (now: number) => resolveVerificationKey(issuer, { alg: "RS256", kid: "rsa-1" }, { kv: env.CONFIG, fetch, now, timeoutMs: 300 });
      expect((await resolve(T)).ok).toBe(true);
      await idp.setMode(mode, mode === "redirect" ? { location: idp.jwksUri } : {});
      const stale = await resolve(T + 601);
      if (!stale.ok) throw new Error(JSON.stringify(stale.error));
      await expect(compactVerify(await idp.sign({ sub: "u" }), stale.value)).resolves.toBeTruthy();
      expect((await resolve(T + JWKS_MAX_STALE_SECONDS)).ok).toBe(true);
      expect(await resolve(T + JWKS_MAX_STALE_SECONDS + 1)).toMatchObject({ ok: false, error: { reason: "jwks_unavailable" } });
    },
  );

  it("rotation mid-run: a new kid is refused without a refetch within the 30 s cool-down after the last fetch", async () => {
    const idp = await freshIdp();
    expect((await exchangeFrom(idp)).status).toBe(200);
    const next = await makeKey("RS256", "rsa-2");
    await idp.publish([next]); // rsa-1 removed
    await expectRefusal(await exchangeFrom(idp, { kid: "rsa-2" }), log.last, { error: "invalid_grant", reason: "kid_unknown" });
    expect((await idp.stats()).jwksFetches).toBe(1);
  });

  it(`rotation mid-run: past the cool-down (${JWKS_REFETCH_COOLDOWN_SECONDS} s), a new kid verifies after one refetch and the removed kid is refused`, async () => {
    const idp = await freshIdp();
    const old = idp.keys;
    await shareSet(idp, old, { fetchedAgo: JWKS_REFETCH_COOLDOWN_SECONDS, freshFor: 500 }); // fetched exactly a cool-down ago
    const next = await makeKey("RS256", "rsa-2");
    await idp.publish([next]);
    expect((await exchangeFrom(idp, { kid: "rsa-2" })).status).toBe(200);
    expect((await idp.stats()).jwksFetches).toBe(1);
    idp.keys = old; // sign with the removed key
    await expectRefusal(await exchangeFrom(idp, { kid: "rsa-1" }), log.last, { error: "invalid_grant", reason: "kid_unknown" });
    expect((await idp.stats()).jwksFetches).toBe(1);
  });

  it("rotation mid-run: one second inside the cool-down, the shared set answers and the IdP is not asked", async () => {
    const idp = await freshIdp();
    await shareSet(idp, idp.keys, { fetchedAgo: JWKS_REFETCH_COOLDOWN_SECONDS - 2, freshFor: 500 });
    const next = await makeKey("RS256", "rsa-2");
    await idp.publish([next]);
    await expectRefusal(await exchangeFrom(idp, { kid: "rsa-2" }), log.last, { error: "invalid_grant", reason: "kid_unknown" });
    expect((await idp.stats()).jwksFetches).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------

describe("clock skew at the limits", () => {
  const N = 1_900_000_000;
  const claimsAt = (times: { iat: number; exp: number; nbf?: number }) => {
    const read = readIdJagClaims({ iss: "https://idp.example", sub: "s", aud: ISSUER, client_id: "c", jti: "j", ...times });
    if (!read.ok) throw new Error(read.error.reason);
    return read.value;
  };

  it.each([
    { name: "exp 60 s ago", times: { iat: N - 360, exp: N - 60 }, reason: undefined },
    { name: "exp 61 s ago", times: { iat: N - 361, exp: N - 61 }, reason: "expired" },
    { name: "nbf 60 s ahead", times: { iat: N, exp: N + 300, nbf: N + 60 }, reason: undefined },
    { name: "nbf 61 s ahead", times: { iat: N, exp: N + 300, nbf: N + 61 }, reason: "not_yet_valid" },
    { name: "iat 60 s ahead", times: { iat: N + 60, exp: N + 360 }, reason: undefined },
    { name: "iat 61 s ahead", times: { iat: N + 61, exp: N + 361 }, reason: "issued_in_future" },
  ])("validity window with $name → $reason", ({ times, reason }) => {
    const result = checkValidityWindow(claimsAt(times), N);
    expect(result.ok ? undefined : result.error.reason).toBe(reason);
  });

  // End to end the Worker reads its own clock, which can only be at or after the test's `now`
  // (and it advances between requests). Rows whose outcome holds for any later worker clock are at
  // the exact limit; the others keep a 5 s margin.
  it.each([
    { name: "iat exactly 60 s ahead (exact)", at: (n: number) => ({ iat: n + 60, exp: n + 360 }), reason: undefined },
    { name: "nbf exactly 60 s ahead (exact)", at: (n: number) => ({ iat: n, exp: n + 300, nbf: n + 60 }), reason: undefined },
    { name: "exp 61 s ago (exact)", at: (n: number) => ({ iat: n - 361, exp: n - 61 }), reason: "expired" },
    { name: "exp 55 s ago", at: (n: number) => ({ iat: n - 355, exp: n - 55 }), reason: undefined },
    { name: "iat 65 s ahead", at: (n: number) => ({ iat: n + 65, exp: n + 365 }), reason: "issued_in_future" },
    { name: "nbf 65 s ahead", at: (n: number) => ({ iat: n, exp: n + 300, nbf: n + 65 }), reason: "not_yet_valid" },
  ])("token exchange with $name → $reason", async ({ at, reason }) => {
    const res = await world.exchange({ grant_type: JWT_BEARER, assertion: await idJag(uniqueSub(), 0, at(nowSeconds())) });
    if (reason === undefined) expect(res.status).toBe(200);
    else await expectRefusal(res, log.last, { error: "invalid_grant", reason });
  });
});
