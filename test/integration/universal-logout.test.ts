// Okta Universal Logout end to end inside workerd: a real signing IdP on loopback, the JWKS cache,
// the real SubjectShard (logout jti ledger and revocation) and the token endpoint.
import { env, exports } from "cloudflare:workers";
import type { JWTPayload } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { handleUniversalLogout, MAX_LOGOUT_BODY_BYTES } from "../../workers/authorization-server/webhooks/universal-logout";
import { emailIndexKey } from "../../workers/lib/revocation-mirror";
import { captureAuditLog, envWithUnavailableShard, expectWebhookRefusal, linesOf, logoutUrl, storedRevokedBefore, testContext, uniqueSub, type AuditLog } from "../support/okta";
import { createTestIdp, makeKey, type TestIdp, type TestKey } from "../support/test-idp";
import { expectRefusal, JWT_BEARER, nowSeconds, setupWorld, type World } from "../support/world";

/** Our app's client id at Okta: the logout JWT's `sub`. */
const CLIENT = "0oaEMAEDGE0001";
const LOGOUT = logoutUrl("okta");
const TYP = "global-token-revocation+jwt";

let world: World;
let okta: TestIdp;
let down: TestIdp;
let log: AuditLog;

beforeAll(async () => {
  log = captureAuditLog();
  world = await setupWorld();
  okta = await createTestIdp();
  await world.trust(okta, "okta", { issuer: { algorithms: ["RS256"], revocation: { universal_logout: { client_id: CLIENT } } } });
  // An org whose JWKS endpoint fails from the start.
  down = await createTestIdp();
  await down.setMode("status_500");
  await world.trust(down, "okta-down", { issuer: { revocation: { universal_logout: { client_id: CLIENT } } } });
});

/** Okta's logout claims (iat now, nbf −5 min, exp +5 min); `overrides` replace or (undefined) delete. */
function logoutClaims(overrides: Record<string, unknown> = {}): JWTPayload {
  const now = nowSeconds();
  const claims: Record<string, unknown> = { iss: okta.issuer, sub: CLIENT, aud: LOGOUT, jti: crypto.randomUUID(), iat: now, nbf: now - 300, exp: now + 300 };
  for (const [k, v] of Object.entries(overrides)) v === undefined ? delete claims[k] : (claims[k] = v);
  return claims as JWTPayload;
}
const logoutJwt = (overrides: Record<string, unknown> = {}, options: { key?: TestKey; header?: Record<string, unknown>; from?: TestIdp } = {}) =>
  (options.from ?? okta).sign(logoutClaims(overrides), { header: { typ: TYP, ...options.header }, ...(options.key && { key: options.key }) });

const issSub = (sub: string, iss = okta.issuer) => ({ sub_id: { format: "iss_sub", iss, sub } });

/** POSTs a logout as Okta does; `authorization: null` sends none, a string body goes verbatim. */
async function logout(body: unknown, options: { token?: string; authorization?: string | null; contentType?: string; issuerId?: string; method?: string } = {}): Promise<Response> {
  const authorization = options.authorization !== undefined ? options.authorization : `Bearer ${options.token ?? (await logoutJwt())}`;
  return exports.default.fetch(logoutUrl(options.issuerId ?? "okta"), {
    method: options.method ?? "POST",
    headers: { "content-type": options.contentType ?? "application/json", ...(authorization !== null && { authorization }) },
    ...(options.method !== "GET" && { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
}

async function redeem(sub: string, iat: number, extra: Record<string, unknown> = {}): Promise<Response> {
  const assertion = await world.assertion({ sub, iat, exp: iat + 300, ...extra }, { from: okta });
  return world.exchange({ grant_type: JWT_BEARER, assertion });
}
const subjectOf = (sub: string) => ({ iss: okta.issuer, sub });

/** Waits for the email index the SubjectShard writes in the background after a first exchange. */
async function indexed(email: string): Promise<void> {
  const key = await emailIndexKey(okta.issuer, email);
  for (let i = 0; i < 50; i++) {
    if ((await env.CONFIG.get(key)) !== null) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("email index not written");
}

describe("a valid logout", () => {
  it("logs out an iss_sub subject: 204, the next exchange is refused, a newer ID-JAG is accepted", async () => {
    const sub = uniqueSub();
    const t = nowSeconds();
    expect((await redeem(sub, t - 5)).status).toBe(200);
    const jwt = await logoutJwt();
    const res = await logout(issSub(sub), { token: jwt });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    await expectRefusal(await redeem(sub, t - 1), log.last, { error: "invalid_grant", reason: "subject_revoked" });
    expect((await redeem(sub, nowSeconds() + 1)).status).toBe(200);
    const lines = linesOf(log, res);
    expect(lines).toEqual([expect.objectContaining({ type: "ema.revocation", channel: "universal_logout", event_type: "global_token_revocation", sub, duplicate: false })]);
    expect(lines[0]!.raw).not.toContain(jwt);
  });

  it("logs out by email through the index written at the person's first exchange (case-insensitive)", async () => {
    const sub = uniqueSub();
    const email = `${sub}@acme.example`;
    const t = nowSeconds();
    expect((await redeem(sub, t - 5, { email })).status).toBe(200);
    await indexed(email);
    const res = await logout({ sub_id: { format: "email", email: email.toUpperCase() } });
    expect(res.status).toBe(204);
    expect(await storedRevokedBefore(subjectOf(sub))).toBeGreaterThanOrEqual(t);
    await expectRefusal(await redeem(sub, t - 1, { email }), log.last, { error: "invalid_grant", reason: "subject_revoked" });
  });

  it("accepts the typ with its application/ prefix and a one-element aud array", async () => {
    const res = await logout(issSub(uniqueSub()), { token: await logoutJwt({ aud: [LOGOUT] }, { header: { typ: `application/${TYP}` } }) });
    expect(res.status).toBe(204);
  });
});

describe("the bearer JWT: every defect is 401", () => {
  const rogueKey = makeKey("RS256", "rogue-1");
  const impostorKey = makeKey("RS256", "rsa-1"); // a published kid, but not Okta's key
  const now = () => nowSeconds();

  it.each([
    { name: "no Authorization header", authorization: async () => null, reason: "bearer_missing" },
    { name: "a Basic credential", authorization: async () => "Basic YTpi", reason: "bearer_missing" },
    { name: "a bearer that is not a JWS", authorization: async () => "Bearer not-a-jwt", reason: "token_malformed" },
    { name: "an ID-JAG's typ", authorization: async () => `Bearer ${await logoutJwt({}, { header: { typ: "oauth-id-jag+jwt" } })}`, reason: "typ_invalid" },
    { name: "no typ", authorization: async () => `Bearer ${await logoutJwt({}, { header: { typ: undefined } })}`, reason: "typ_invalid" },
    { name: "an alg the issuer does not use (ES256)", authorization: async () => `Bearer ${await logoutJwt({}, { key: okta.keys[1] })}`, reason: "alg_not_allowed" },
    { name: "a kid not in the issuer's JWKS", authorization: async () => `Bearer ${await logoutJwt({}, { key: await rogueKey })}`, reason: "kid_unknown" },
    { name: "a signature by another key under a published kid", authorization: async () => `Bearer ${await logoutJwt({}, { key: await impostorKey })}`, reason: "signature_invalid" },
    { name: "a signature by another trusted IdP", authorization: async () => `Bearer ${await logoutJwt({}, { from: world.idp })}`, reason: "signature_invalid" },
    { name: "another iss", authorization: async () => `Bearer ${await logoutJwt({ iss: world.idp.issuer })}`, reason: "iss_mismatch" },
    { name: "the token endpoint as aud", authorization: async () => `Bearer ${await logoutJwt({ aud: "https://as.example.test/oauth2/token" })}`, reason: "aud_mismatch" },
    { name: "another issuer's logout URL as aud", authorization: async () => `Bearer ${await logoutJwt({ aud: logoutUrl("okta-down") })}`, reason: "aud_mismatch" },
    { name: "aud with a trailing slash", authorization: async () => `Bearer ${await logoutJwt({ aud: `${LOGOUT}/` })}`, reason: "aud_mismatch" },
    { name: "another client as sub", authorization: async () => `Bearer ${await logoutJwt({ sub: "0oaOTHERAPP" })}`, reason: "sub_mismatch" },
    { name: "an exp 61 s past", authorization: async () => `Bearer ${await logoutJwt({ iat: now() - 361, nbf: now() - 361, exp: now() - 61 })}`, reason: "expired" },
    { name: "an exp an hour ahead", authorization: async () => `Bearer ${await logoutJwt({ exp: now() + 3600 })}`, reason: "exp_too_far" },
    { name: "an nbf 2 min ahead", authorization: async () => `Bearer ${await logoutJwt({ nbf: now() + 120 })}`, reason: "not_yet_valid" },
    { name: "an iat 2 min ahead", authorization: async () => `Bearer ${await logoutJwt({ iat: now() + 120 })}`, reason: "issued_in_future" },
    { name: "no jti", authorization: async () => `Bearer ${await logoutJwt({ jti: undefined })}`, reason: "claim_missing" },
  ])("refuses $name", async ({ authorization, reason }) => {
    const sub = uniqueSub();
    const res = await logout(issSub(sub), { authorization: await authorization() });
    expect(res.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
    await expectWebhookRefusal(res, log, { status: 401, reason, error: "unauthorized", channel: "universal_logout" });
    expect(await storedRevokedBefore(subjectOf(sub))).toBeUndefined();
  });

  it("refuses a reused jti, even for another user, and writes no token to the audit line", async () => {
    const [first, second] = [uniqueSub(), uniqueSub()];
    const jwt = await logoutJwt();
    expect((await logout(issSub(first), { token: jwt })).status).toBe(204);
    const replay = await logout(issSub(first), { token: jwt });
    const line = await expectWebhookRefusal(replay, log, { status: 401, reason: "jti_reused" });
    expect(line.raw).not.toContain(jwt);
    await expectWebhookRefusal(await logout(issSub(second), { token: jwt }), log, { status: 401, reason: "jti_reused" });
    expect(await storedRevokedBefore(subjectOf(second))).toBeUndefined();
  });

  it("answers 503, not 401, when the issuer's keys cannot be fetched", async () => {
    const jwt = await logoutJwt({ iss: down.issuer, aud: logoutUrl("okta-down") }, { from: down });
    await expectWebhookRefusal(await logout(issSub(uniqueSub(), down.issuer), { token: jwt, issuerId: "okta-down" }), log, { status: 503, reason: "jwks_unavailable" });
  });
});

describe("the request and its body", () => {
  it.each([
    { name: "a body that is not JSON", body: "sub_id=jo", reason: "body_not_json" },
    { name: "a repeated member", body: `{"sub_id":{"format":"email","email":"a@acme.example"},"sub_id":{"format":"email","email":"b@acme.example"}}`, reason: "duplicate_json_member" },
    { name: "no sub_id", body: { subject: "x" }, reason: "sub_id_missing" },
    { name: "the opaque format", body: { sub_id: { format: "opaque", id: "x" } }, reason: "sub_id_format_unsupported" },
    { name: "an email without @", body: { sub_id: { format: "email", email: "jo" } }, reason: "sub_id_invalid" },
    { name: "an iss_sub of another issuer", body: { sub_id: { format: "iss_sub", iss: "https://other.okta.example", sub: "00uX" } }, reason: "subject_issuer_mismatch" },
  ])("refuses $name with 400", async ({ body, reason }) => {
    await expectWebhookRefusal(await logout(body), log, { status: 400, reason });
  });

  it("refuses a content type other than JSON with 415", async () => {
    await expectWebhookRefusal(await logout(issSub(uniqueSub()), { contentType: "application/x-www-form-urlencoded" }), log, { status: 415, reason: "unsupported_content_type" });
  });

  it("refuses a body over 4 KiB with 413, and accepts one of exactly 4 KiB", async () => {
    const body = (bytes: number, sub: string) => {
      const text = JSON.stringify(issSub(sub));
      return text + " ".repeat(bytes - text.length);
    };
    await expectWebhookRefusal(await logout(body(MAX_LOGOUT_BODY_BYTES + 1, uniqueSub())), log, { status: 413, reason: "body_too_large" });
    expect((await logout(body(MAX_LOGOUT_BODY_BYTES, uniqueSub()))).status).toBe(204);
  });

  it("answers 404 for an email nobody with that address has redeemed an ID-JAG with", async () => {
    await expectWebhookRefusal(await logout({ sub_id: { format: "email", email: "nobody@acme.example" } }), log, { status: 404, reason: "subject_unknown", error: "not_found" });
  });

  it.each([
    { name: "not JSON", entry: () => "{" },
    { name: "of another issuer", entry: () => JSON.stringify({ iss: world.idp.issuer, sub: "00uX" }) },
    { name: "without a sub", entry: () => JSON.stringify({ iss: okta.issuer }) },
    { name: "with a tenant that is not a string", entry: () => JSON.stringify({ iss: okta.issuer, sub: "00uX", tenant: 5 }) },
  ])("answers 404 for an email whose index entry is $name, and revokes nothing", async ({ entry }) => {
    const email = `${uniqueSub()}@acme.example`;
    await env.CONFIG.put(await emailIndexKey(okta.issuer, email), entry());
    await expectWebhookRefusal(await logout({ sub_id: { format: "email", email } }), log, { status: 404, reason: "subject_unknown" });
    expect(await storedRevokedBefore(subjectOf("00uX"))).toBeUndefined();
  });

  it("answers 404 for an unknown issuer id and for an issuer without Universal Logout, alike", async () => {
    const unknown = await logout(issSub("00uX"), { issuerId: "nobody" });
    const notConfigured = await logout(issSub("00uX"), { issuerId: "test-idp" });
    expect(await unknown.clone().text()).toBe(await notConfigured.clone().text());
    await expectWebhookRefusal(unknown, log, { status: 404, reason: "issuer_unknown" });
    await expectWebhookRefusal(notConfigured, log, { status: 404, reason: "issuer_unknown" });
  });

  it("refuses GET with 405 and Allow: POST", async () => {
    const res = await logout(undefined, { method: "GET" });
    expect(res.headers.get("allow")).toBe("POST");
    await expectWebhookRefusal(res, log, { status: 405, reason: "method_not_allowed" });
  });
});

describe("a storage failure", () => {
  async function callDirect(sub: string, shardEnv: typeof env): Promise<{ res: Response; requestId: string }> {
    const requestId = crypto.randomUUID();
    const request = new Request(LOGOUT, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${await logoutJwt()}` }, body: JSON.stringify(issSub(sub)) });
    return { res: await handleUniversalLogout(request, shardEnv, testContext(), requestId, "okta"), requestId };
  }

  it("answers 503 when the SubjectShard cannot record the jti, and goes no further", async () => {
    const sub = uniqueSub();
    let revocations = 0;
    // Only the jti ledger fails: a revocation attempted anyway would answer 204.
    const applyRevocations = async (entries: { subjectKey: string; eventKey: string; revokedBefore: number }[]) => {
      revocations++;
      return entries.map((e) => ({ ...e, duplicate: false }));
    };
    const { res, requestId } = await callDirect(sub, envWithUnavailableShard({ applyRevocations }));
    expect(revocations).toBe(0);
    expect(res.status).toBe(503);
    expect(log.lines.get(requestId)).toEqual([expect.objectContaining({ type: "ema.webhook", outcome: "refused", reason: "store_unavailable" })]);
    expect(await storedRevokedBefore(subjectOf(sub))).toBeUndefined();
  });

  it("answers 503 when the revocation does not commit, and the next exchange still succeeds", async () => {
    const sub = uniqueSub();
    const t = nowSeconds();
    const { res, requestId } = await callDirect(sub, envWithUnavailableShard({ consumeOnce: async () => true }));
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: "temporarily_unavailable" });
    expect(log.lines.get(requestId)).toEqual([expect.objectContaining({ type: "ema.webhook", reason: "store_unavailable", detail: { store: "subject_shard" } })]);
    expect(await storedRevokedBefore(subjectOf(sub))).toBeUndefined();
    expect((await redeem(sub, t - 1)).status).toBe(200);
  });
});
