// The Shared Signals push receiver (RFC 8935) end to end: a test IdP signs SETs, the Worker verifies
// them against its JWKS over loopback, and revocations land in the real SubjectShard and KV mirror,
// where the token endpoint and the mirror show their effect. Revocation notes §3.3 and §8 "SSF / SET push".
import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { handleSsfPush, MAX_SET_BYTES } from "../../workers/authorization-server/webhooks/ssf";
import { encodeBase64Url } from "../../workers/lib/base64url";
import { emailIndexKey, subjectMirrorKey, type SubjectRevocationRecord } from "../../workers/lib/revocation-mirror";
import { hashSharedSecret } from "../../workers/lib/shared-secret";
import {
  ACCOUNT_ENABLED,
  CAEP,
  complexSessionRevoked,
  RISC,
  issSub,
  oktaSessionRevoked,
  pushSet,
  sessionRevoked,
  setClaims,
  signSet,
  ssfUrl,
  streamUpdated,
  verification,
} from "../support/ssf";
import { createTestIdp, makeKey, type TestIdp } from "../support/test-idp";
import { captureAudit, expectRefusal, ISSUER, JWT_BEARER, nowSeconds, setupWorld, type World } from "../support/world";

const STREAM = "ssf-idp";
const RISC_ACCOUNT_DISABLED = `${RISC}account-disabled`;
const OPEN_STREAM = "ssf-open"; // no authorization header configured
const STREAM_ID = "f67e39a0a4d34d56b3aa1bc4cff0069f";
const AUTHORIZATION = "Bearer stream-secret-for-tests-0123456789";

let world: World;
let audit: Map<string, Record<string, any>>;
let idp: TestIdp;
let openIdp: TestIdp;

beforeAll(async () => {
  world = await setupWorld();
  audit = captureAudit();
  idp = await createTestIdp();
  openIdp = await createTestIdp();
  await world.trust(idp, STREAM, { issuer: { revocation: { ssf: { authorization_sha256: [await hashSharedSecret(AUTHORIZATION)], stream_id: STREAM_ID } } } });
  await world.trust(openIdp, OPEN_STREAM, { issuer: { revocation: { ssf: {} } } });
});

const newSub = () => `user-${crypto.randomUUID()}`;
const push = async (claims: Record<string, unknown>, headers: Record<string, string | undefined> = {}) =>
  pushSet(STREAM, await signSet(idp, claims), { authorization: AUTHORIZATION, ...headers });
const auditOf = (res: Response) => audit.get(res.headers.get("x-request-id") ?? "");
const mirrored = async (iss: string, sub: string) => env.CONFIG.get<SubjectRevocationRecord>(await subjectMirrorKey({ iss, sub }), "json");
/** Redeems an ID-JAG from `from` for `sub` issued at `iat`. */
const redeem = async (from: TestIdp, sub: string, iat: number) =>
  world.exchange({ grant_type: JWT_BEARER, assertion: await world.assertion({ sub, iat, exp: iat + 300 }, { from }) });

async function expectAccepted(res: Response) {
  expect({ status: res.status, body: await res.text() }).toEqual({ status: 202, body: "" });
}

/** Asserts a refused delivery: status, `err`, the audit reason, and a description without token material. */
async function expectSetRefusal(res: Response, expected: { status?: number; err?: string; reason: string }, secrets: string[] = []) {
  const event = auditOf(res);
  const status = expected.status ?? 400;
  const text = await res.text();
  expect({ status: res.status, reason: event?.reason, outcome: event?.outcome, err: event?.err }).toEqual({ status, reason: expected.reason, outcome: "refused", err: expected.err });
  if (status !== 400) return;
  expect(res.headers.get("content-type")).toBe("application/json");
  const body = JSON.parse(text) as { err: string; description: string };
  expect(body.err).toBe(expected.err);
  expect(typeof body.description).toBe("string");
  for (const secret of secrets) for (const part of secret.split(".")) if (part.length > 8) expect(body.description).not.toContain(part);
}

describe("a revoking event, end to end", () => {
  it("refuses an ID-JAG issued before a session-revoked event and accepts one issued after", async () => {
    const sub = newSub();
    const now = nowSeconds();
    const claims = sessionRevoked(idp, sub, now - 30);
    const res = await push(claims);
    await expectAccepted(res);
    expect(auditOf(res)).toMatchObject({ type: "ema.revocation", channel: "ssf", event_id: claims.jti, sub, effective: now - 30, duplicate: false });

    await expectRefusal(await redeem(idp, sub, now - 60), audit, { error: "invalid_grant", reason: "subject_revoked" });
    expect((await redeem(idp, sub, now - 10)).status).toBe(200);
  });

  it("answers a repeated jti with 202 and changes nothing", async () => {
    const sub = newSub();
    const now = nowSeconds();
    const signed = await signSet(idp, sessionRevoked(idp, sub, now - 100));
    await expectAccepted(await pushSet(STREAM, signed, { authorization: AUTHORIZATION }));
    const again = await pushSet(STREAM, signed, { authorization: AUTHORIZATION });
    await expectAccepted(again);
    expect(auditOf(again)).toMatchObject({ type: "ema.revocation", duplicate: true, effective: now - 100 });
    expect((await mirrored(idp.issuer, sub))?.revoked_before).toBe(now - 100);
    expect((await redeem(idp, sub, now - 50)).status).toBe(200);
  });

  it("normalises a millisecond event_timestamp to seconds", async () => {
    const sub = newSub();
    const now = nowSeconds();
    await expectAccepted(await push(sessionRevoked(idp, sub, (now - 40) * 1000 + 737)));
    // Unnormalised, the value would be far in the future and clamped to the receipt time.
    expect((await mirrored(idp.issuer, sub))?.revoked_before).toBe(now - 40);
  });

  it("reads Okta's subject inside the event when there is no sub_id", async () => {
    const sub = newSub();
    const now = nowSeconds();
    await expectAccepted(await push(oktaSessionRevoked(idp, sub, (now - 20) * 1000)));
    expect((await mirrored(idp.issuer, sub))?.revoked_before).toBe(now - 20);
    await expectRefusal(await redeem(idp, sub, now - 30), audit, { error: "invalid_grant", reason: "subject_revoked" });
  });

  it("revokes the user member of a complex subject", async () => {
    const sub = newSub();
    const now = nowSeconds();
    await expectAccepted(await push(complexSessionRevoked(idp, sub, now - 10, { session: { format: "opaque", id: "sess-1" } })));
    expect((await mirrored(idp.issuer, sub))?.revoked_before).toBe(now - 10);
  });

  it("falls back to iat when the event has no event_timestamp", async () => {
    const sub = newSub();
    const now = nowSeconds();
    await expectAccepted(await push(setClaims(idp, { type: RISC_ACCOUNT_DISABLED }, issSub(idp.issuer, sub), { iat: now - 15 })));
    expect((await mirrored(idp.issuer, sub))?.revoked_before).toBe(now - 15);
  });

  it("clamps an event time in the future to the time of receipt", async () => {
    const sub = newSub();
    const now = nowSeconds();
    await expectAccepted(await push(sessionRevoked(idp, sub, now + 86_400)));
    const stored = (await mirrored(idp.issuer, sub))!.revoked_before;
    expect(stored).toBeGreaterThanOrEqual(now);
    expect(stored).toBeLessThanOrEqual(nowSeconds());
  });

  it("revokes the subject an email names, through the email index", async () => {
    const sub = newSub();
    const email = `${sub}@corp.example`;
    await env.CONFIG.put(await emailIndexKey(idp.issuer, email), JSON.stringify({ iss: idp.issuer, sub }));
    const now = nowSeconds();
    await expectAccepted(await push(setClaims(idp, { type: `${CAEP}session-revoked`, body: { event_timestamp: now - 5 } }, { format: "email", email: email.toUpperCase() })));
    expect((await mirrored(idp.issuer, sub))?.revoked_before).toBe(now - 5);
  });

  it("acknowledges an email nobody has used and does nothing", async () => {
    const res = await push(setClaims(idp, { type: `${CAEP}session-revoked` }, { format: "email", email: "nobody@corp.example" }));
    await expectAccepted(res);
    expect(auditOf(res)).toMatchObject({ type: "ema.webhook", outcome: "ignored", why: "subject_unknown" });
  });

  it("ignores an email index entry that names another issuer's subject", async () => {
    const sub = newSub();
    const email = `${sub}@corp.example`;
    await env.CONFIG.put(await emailIndexKey(idp.issuer, email), JSON.stringify({ iss: world.idp.issuer, sub }));
    const res = await push(setClaims(idp, { type: `${CAEP}session-revoked` }, { format: "email", email }));
    await expectAccepted(res);
    expect(auditOf(res)).toMatchObject({ outcome: "ignored", why: "subject_unknown" });
    expect(await mirrored(world.idp.issuer, sub)).toBeNull();
  });

  it("revokes on credential-change with change_type revoke", async () => {
    const sub = newSub();
    const now = nowSeconds();
    await expectAccepted(await push(setClaims(idp, { type: `${CAEP}credential-change`, body: { credential_type: "password", change_type: "revoke", event_timestamp: now - 3 } }, issSub(idp.issuer, sub))));
    expect((await mirrored(idp.issuer, sub))?.revoked_before).toBe(now - 3);
  });

  it("answers 400 access_denied for a subject of another issuer", async () => {
    const sub = newSub();
    const res = await push(setClaims(idp, { type: `${CAEP}session-revoked` }, issSub(world.idp.issuer, sub)));
    await expectSetRefusal(res, { err: "access_denied", reason: "subject_foreign" });
    expect(await mirrored(world.idp.issuer, sub)).toBeNull();
  });
});

describe("a stream of a tenant-pinned issuer", () => {
  let tenantIdp: TestIdp;
  beforeAll(async () => {
    tenantIdp = await createTestIdp();
    await world.trust(tenantIdp, "ssf-acme", { issuer: { tenant: "acme", revocation: { ssf: {} } } });
  });
  const pushAcme = async (claims: Record<string, unknown>) => pushSet("ssf-acme", await signSet(tenantIdp, claims));
  const redeemAcme = async (sub: string, iat: number) =>
    world.exchange({ grant_type: JWT_BEARER, assertion: await world.assertion({ sub, tenant: "acme", iat, exp: iat + 300 }, { from: tenantIdp }) });

  it("keys the revocation by the pinned tenant, so the tenant's ID-JAGs are refused", async () => {
    const sub = newSub();
    const now = nowSeconds();
    await expectAccepted(await pushAcme(sessionRevoked(tenantIdp, sub, now - 30)));
    await expectRefusal(await redeemAcme(sub, now - 60), audit, { error: "invalid_grant", reason: "subject_revoked" });
    expect((await redeemAcme(sub, now - 10)).status).toBe(200);
  });

  it("ignores an email index entry of another tenant", async () => {
    const sub = newSub();
    const email = `${sub}@globex.example`;
    await env.CONFIG.put(await emailIndexKey(tenantIdp.issuer, email), JSON.stringify({ iss: tenantIdp.issuer, tenant: "globex", sub }));
    const res = await pushAcme(setClaims(tenantIdp, { type: `${CAEP}session-revoked` }, { format: "email", email }));
    await expectAccepted(res);
    expect(auditOf(res)).toMatchObject({ outcome: "ignored", why: "subject_unknown" });
  });

  it("refuses a complex subject naming another tenant with access_denied", async () => {
    const claims = complexSessionRevoked(tenantIdp, newSub(), nowSeconds(), { tenant: { format: "opaque", id: "globex" } });
    await expectSetRefusal(await pushAcme(claims), { err: "access_denied", reason: "subject_foreign" });
  });
});

describe("events that revoke nothing", () => {
  it("never lets account-enabled un-revoke a subject", async () => {
    const sub = newSub();
    const now = nowSeconds();
    await expectAccepted(await push(sessionRevoked(idp, sub, now - 100)));
    const res = await push(setClaims(idp, { type: ACCOUNT_ENABLED, body: { event_timestamp: now - 2 } }, issSub(idp.issuer, sub)));
    await expectAccepted(res);
    expect(auditOf(res)).toMatchObject({ type: "ema.webhook", outcome: "ignored", why: "restore_event" });
    expect((await mirrored(idp.issuer, sub))?.revoked_before).toBe(now - 100);
    await expectRefusal(await redeem(idp, sub, now - 150), audit, { error: "invalid_grant", reason: "subject_revoked" });
  });

  it("acknowledges an unknown event type and ignores it", async () => {
    const sub = newSub();
    const res = await push(setClaims(idp, { type: "https://example.test/secevent/event-type/weather" }, issSub(idp.issuer, sub)));
    await expectAccepted(res);
    expect(auditOf(res)).toMatchObject({ outcome: "ignored", why: "unknown_event" });
    expect(await mirrored(idp.issuer, sub)).toBeNull();
  });

  it("acknowledges a verification event naming this stream", async () => {
    const res = await push(verification(idp, STREAM_ID, "c3RhdGU"));
    await expectAccepted(res);
    expect(auditOf(res)).toMatchObject({ type: "ema.webhook", channel: "ssf", outcome: "verified" });
  });

  it("refuses a verification event naming another stream with 400", async () => {
    await expectSetRefusal(await push(verification(idp, "another-stream")), { err: "invalid_request", reason: "stream_subject_mismatch" });
  });

  it("records a stream-updated event and flags a paused stream", async () => {
    const res = await push(streamUpdated(idp, STREAM_ID, "paused"));
    await expectAccepted(res);
    expect(auditOf(res)).toMatchObject({ outcome: "stream_updated", status: "paused", alert: true });
  });

  it("refuses a stream-updated event with an unknown status", async () => {
    await expectSetRefusal(await push(streamUpdated(idp, STREAM_ID, "broken")), { err: "invalid_request", reason: "event_invalid" });
  });
});

const b64 = (value: unknown) => encodeBase64Url(new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value)));
const setHeader = (extra: Record<string, unknown> = {}) => ({ alg: "RS256", kid: "rsa-1", typ: "secevent+jwt", ...extra });
const valid = () => sessionRevoked(idp, newSub(), nowSeconds() - 1);

describe("bad input (revocation notes §8, SSF / SET push)", () => {
  it.each([
    { name: "a corrupted signature", reason: "signature_invalid", err: "invalid_key", token: async () => (await signSet(idp, valid())).replace(/.{4}$/, "AAAA") },
    { name: "an unknown kid", reason: "kid_unknown", err: "invalid_key", token: () => signSet(idp, valid(), { header: { kid: "rotated-away" } }) },
    { name: "no kid", reason: "kid_missing", err: "invalid_key", token: () => signSet(idp, valid(), { header: { kid: undefined } }) },
    { name: "a key outside the JWKS under a known kid", reason: "signature_invalid", err: "invalid_key", token: async () => signSet(idp, valid(), { key: await makeKey("RS256", "rsa-1") }) },
    { name: "alg none", reason: "alg_not_allowed", err: "invalid_key", token: async () => `${b64(setHeader({ alg: "none" }))}.${b64(valid())}.c2ln` },
    {
      name: "HS256 keyed with the transmitter's public key",
      reason: "alg_not_allowed",
      err: "invalid_key",
      token: () => new SignJWT(valid()).setProtectedHeader(setHeader({ alg: "HS256" }) as any).sign(new TextEncoder().encode(JSON.stringify(idp.keys[0]!.publicJwk))),
    },
    { name: "ES256, which the stream does not allow", reason: "alg_not_allowed", err: "invalid_key", token: () => signSet(idp, valid(), { key: idp.keys[1] }) },
    { name: "typ JWT", reason: "typ_invalid", err: "invalid_request", token: () => signSet(idp, valid(), { header: { typ: "JWT" } }) },
    { name: "no typ", reason: "typ_invalid", err: "invalid_request", token: () => signSet(idp, valid(), { header: { typ: undefined } }) },
    { name: "an ID-JAG typ", reason: "typ_invalid", err: "invalid_request", token: () => signSet(idp, valid(), { header: { typ: "oauth-id-jag+jwt" } }) },
    { name: "a wrong iss", reason: "iss_mismatch", err: "invalid_issuer", token: () => signSet(idp, { ...valid(), iss: world.idp.issuer }) },
    { name: "a wrong aud", reason: "aud_mismatch", err: "invalid_audience", token: () => signSet(idp, { ...valid(), aud: "https://other-receiver.example" }) },
    { name: "no aud", reason: "aud_mismatch", err: "invalid_audience", token: () => signSet(idp, { ...valid(), aud: undefined }) },
    { name: "no iat", reason: "claim_missing", err: "invalid_request", token: () => signSet(idp, { ...valid(), iat: undefined }) },
    { name: "no jti", reason: "claim_missing", err: "invalid_request", token: () => signSet(idp, { ...valid(), jti: undefined }) },
    { name: "no events", reason: "claim_missing", err: "invalid_request", token: () => signSet(idp, { ...valid(), events: undefined }) },
    { name: "events that is an array", reason: "events_invalid", err: "invalid_request", token: () => signSet(idp, { ...valid(), events: [] }) },
    { name: "an event that is not an object", reason: "events_invalid", err: "invalid_request", token: () => signSet(idp, { ...valid(), events: { [`${CAEP}session-revoked`]: true } }) },
    {
      name: "two events",
      reason: "events_multiple",
      err: "invalid_request",
      token: () => signSet(idp, { ...valid(), events: { [`${CAEP}session-revoked`]: {}, [RISC_ACCOUNT_DISABLED]: {} } }),
    },
    { name: "a sub claim", reason: "claim_forbidden", err: "invalid_request", token: () => signSet(idp, { ...valid(), sub: "user-1" }) },
    { name: "an exp claim", reason: "claim_forbidden", err: "invalid_request", token: () => signSet(idp, { ...valid(), exp: nowSeconds() + 60 }) },
    { name: "no subject", reason: "subject_missing", err: "invalid_request", token: () => signSet(idp, { ...valid(), sub_id: undefined }) },
    { name: "an empty sub in the subject", reason: "subject_invalid", err: "invalid_request", token: () => signSet(idp, { ...valid(), sub_id: issSub(idp.issuer, "") }) },
    {
      name: "a negative event_timestamp",
      reason: "event_time_invalid",
      err: "invalid_request",
      token: () => signSet(idp, setClaims(idp, { type: `${CAEP}session-revoked`, body: { event_timestamp: -1 } }, issSub(idp.issuer, "u"))),
    },
    { name: "two segments", reason: "jws_malformed", err: "invalid_request", token: async () => `${b64(setHeader())}.${b64(valid())}` },
    { name: "a JWE", reason: "jwe_unsupported", err: "invalid_request", token: async () => "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d" },
  ])("refuses $name with 400 $err", async ({ token, reason, err }) => {
    const signed = await token();
    await expectSetRefusal(await pushSet(STREAM, signed, { authorization: AUTHORIZATION }), { err, reason }, [signed]);
  });

  it("writes one refusal line with the err and reason and nothing of the SET", async () => {
    const res = await push({ ...valid(), aud: "https://other-receiver.example" });
    await res.text();
    const line = auditOf(res)!;
    expect(Object.keys(line).sort()).toEqual(["channel", "err", "outcome", "reason", "request_id", "type"]);
    expect(line).toMatchObject({ type: "ema.webhook", channel: "ssf", outcome: "refused", err: "invalid_audience" });
  });

  it.each([
    { name: "a missing authorization header", authorization: undefined },
    { name: "a wrong authorization header", authorization: "Bearer guessed" },
    { name: "the secret without its scheme", authorization: AUTHORIZATION.replace("Bearer ", "") },
  ])("refuses $name with 400 authentication_failed", async ({ authorization }) => {
    await expectSetRefusal(await pushSet(STREAM, await signSet(idp, valid()), { authorization }), { err: "authentication_failed", reason: "authorization_invalid" });
  });

  it("accepts a stream without a configured authorization header on the signature alone", async () => {
    await expectAccepted(await pushSet(OPEN_STREAM, await signSet(openIdp, sessionRevoked(openIdp, newSub(), nowSeconds() - 1))));
  });

  it.each([
    { name: "application/json", contentType: "application/json" },
    { name: "application/jwt", contentType: "application/jwt" },
    { name: "no content type", contentType: undefined },
  ])("refuses content type $name with 400 invalid_request", async ({ contentType }) => {
    // Bytes, not a string: fetch would label a string body text/plain.
    const body = new TextEncoder().encode(await signSet(idp, valid()));
    const res = await pushSet(STREAM, body, { authorization: AUTHORIZATION, "content-type": contentType });
    await expectSetRefusal(res, { err: "invalid_request", reason: "content_type_invalid" });
  });

  it("accepts the media type with a parameter and in another case", async () => {
    await expectAccepted(await pushSet(STREAM, await signSet(idp, valid()), { authorization: AUTHORIZATION, "content-type": "Application/SecEvent+JWT; charset=utf-8" }));
  });

  it("reads a body of exactly 64 KiB and refuses one byte more with 413, streamed without a length", async () => {
    const at = "x".repeat(MAX_SET_BYTES);
    await expectSetRefusal(await pushSet(STREAM, at, { authorization: AUTHORIZATION }), { err: "invalid_request", reason: "jws_malformed" });
    const over = new Blob([at + "x"]).stream();
    await expectSetRefusal(await pushSet(STREAM, over, { authorization: AUTHORIZATION }), { status: 413, reason: "body_too_large" });
  });

  it("stops reading a body without Content-Length once it passes 64 KiB (413)", async () => {
    // 1 MiB in 16 KiB chunks: finite, so a reader without the cap answers (wrongly) instead of hanging.
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 16 * 1024;
        controller.enqueue(new Uint8Array(16 * 1024).fill(120));
        if (pulled >= 1024 * 1024) controller.close();
      },
    });
    const request = new Request(ssfUrl(STREAM), { method: "POST", headers: { "content-type": "application/secevent+jwt", authorization: AUTHORIZATION }, body: endless });
    expect(request.headers.get("content-length")).toBeNull();
    const res = await handleSsfPush(request, env, {} as ExecutionContext, "req-endless", STREAM);
    expect(res.status).toBe(413);
    expect(audit.get("req-endless")).toMatchObject({ outcome: "refused", reason: "body_too_large" });
    expect(pulled).toBeLessThanOrEqual(MAX_SET_BYTES + 3 * 16 * 1024);
  });

  it("answers 405 to anything but POST", async () => {
    const res = await pushSet(STREAM, null, { authorization: AUTHORIZATION }, "GET");
    await expectSetRefusal(res, { status: 405, reason: "method_not_allowed" });
    expect(res.headers.get("allow")).toBe("POST");
  });

  it.each([
    { name: "an unknown issuer id", id: "no-such-issuer" },
    { name: "a trusted issuer without an SSF stream", id: "test-idp" },
  ])("answers 404 for $name", async ({ id }) => {
    await expectSetRefusal(await pushSet(id, await signSet(idp, valid()), { authorization: AUTHORIZATION }), { status: 404, reason: "stream_unknown" });
  });
});

describe("storage", () => {
  it("answers 503 and acknowledges nothing when the SubjectShard is unavailable; a retry then applies", async () => {
    const sub = newSub();
    const now = nowSeconds();
    const signed = await signSet(idp, sessionRevoked(idp, sub, now - 30));
    const shardDown = {
      idFromName: (name: string) => env.SUBJECT_SHARD.idFromName(name),
      get: () => ({
        applyRevocations: () => Promise.reject(new Error("Durable Object unavailable")),
      }),
    } as unknown as typeof env.SUBJECT_SHARD;
    const request = new Request(ssfUrl(STREAM), { method: "POST", headers: { "content-type": "application/secevent+jwt", authorization: AUTHORIZATION }, body: signed });
    const res = await handleSsfPush(request, { ...env, SUBJECT_SHARD: shardDown }, {} as ExecutionContext, "req-shard-down", STREAM);

    expect(res.status).toBe(503);
    expect(audit.get("req-shard-down")).toMatchObject({ type: "ema.webhook", outcome: "refused", reason: "store_unavailable" });
    expect(await mirrored(idp.issuer, sub)).toBeNull();
    expect((await redeem(idp, sub, now - 60)).status).toBe(200);

    await expectAccepted(await pushSet(STREAM, signed, { authorization: AUTHORIZATION }));
    await expectRefusal(await redeem(idp, sub, now - 59), audit, { error: "invalid_grant", reason: "subject_revoked" });
  });

  it("answers 503 when the transmitter's keys cannot be fetched and none are cached", async () => {
    const down = await createTestIdp();
    await world.trust(down, "ssf-down", { issuer: { revocation: { ssf: {} } } });
    await down.setMode("status_500");
    const res = await pushSet("ssf-down", await signSet(down, sessionRevoked(down, newSub(), nowSeconds())));
    await expectSetRefusal(res, { status: 503, reason: "jwks_unavailable" });
  });
});

it("uses the configured audience instead of the issuer URL", async () => {
  const aud = await createTestIdp();
  await world.trust(aud, "ssf-aud", { issuer: { revocation: { ssf: { audience: "urn:ema-edge:receiver" } } } });
  const claims = sessionRevoked(aud, newSub(), nowSeconds(), { aud: ["urn:ema-edge:receiver", "https://elsewhere.example"] });
  await expectAccepted(await pushSet("ssf-aud", await signSet(aud, claims)));
  const ours = sessionRevoked(aud, newSub(), nowSeconds(), { aud: ISSUER });
  await expectSetRefusal(await pushSet("ssf-aud", await signSet(aud, ours)), { err: "invalid_audience", reason: "aud_mismatch" });
});
