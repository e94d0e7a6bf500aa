// The Okta Event Hook end to end inside workerd: real KV, the real SubjectShard, the real token
// endpoint. Each test uses its own Okta user id, so tests never share revocation state.
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { forgetPolicyForTests } from "../../workers/authorization-server/config/policy-store";
import { handleOktaHook, MAX_HOOK_BODY_BYTES } from "../../workers/authorization-server/webhooks/okta-hook";
import { subjectMirrorKey, type SubjectRevocationRecord } from "../../workers/lib/revocation-mirror";
import { hashSharedSecret } from "../../workers/lib/shared-secret";
import {
  captureAuditLog,
  deliver,
  envelope,
  envWithUnavailableShard,
  expectWebhookRefusal,
  HOOK_ID,
  HOOK_SECRET,
  hookUrl,
  iso,
  linesOf,
  logEvent,
  NEXT_HOOK_SECRET,
  storedRevokedBefore,
  testContext,
  uniqueSub,
  userTarget,
  type AuditLog,
} from "../support/okta";
import { createTestIdp, type TestIdp } from "../support/test-idp";
import { expectRefusal, JWT_BEARER, nowSeconds, setupWorld, type World } from "../support/world";

let world: World;
let okta: TestIdp;
let log: AuditLog;

beforeAll(async () => {
  log = captureAuditLog();
  world = await setupWorld();
  okta = await createTestIdp();
  const secrets = [await hashSharedSecret(HOOK_SECRET), await hashSharedSecret(NEXT_HOOK_SECRET)];
  await world.trust(okta, "okta", { issuer: { revocation: { okta_event_hook: { secret_sha256: secrets, hook_ids: [HOOK_ID] } } } });
  // A second Okta org whose hook sends its secret in a custom header.
  const custom = await createTestIdp();
  await world.trust(custom, "okta-custom", { issuer: { revocation: { okta_event_hook: { secret_sha256: [secrets[0]!], header: "x-okta-hook-secret" } } } });
});

const subjectOf = (sub: string) => ({ iss: okta.issuer, sub });
/** An ID-JAG for `sub` from the Okta org, issued at `iat`, redeemed at the token endpoint. */
async function redeem(sub: string, iat: number): Promise<Response> {
  const assertion = await world.assertion({ sub, iat, exp: iat + 300 }, { from: okta });
  return world.exchange({ grant_type: JWT_BEARER, assertion });
}
const deactivation = (sub: string, published: number, extra: Record<string, unknown> = {}) => logEvent(sub, { published: iso(published, 880), ...extra });
const acceptedLine = (res: Response) => linesOf(log, res).find((l) => l.type === "ema.webhook");
const revocationLines = (res: Response) => linesOf(log, res).filter((l) => l.type === "ema.revocation");

async function expectAcknowledged(res: Response): Promise<void> {
  expect(res.status).toBe(204);
  expect(await res.text()).toBe("");
  expect(acceptedLine(res)).toMatchObject({ channel: "okta_event_hook", outcome: "accepted" });
}

describe("a deactivation delivered to the hook", () => {
  it("refuses the next exchange of an ID-JAG issued before the event, and accepts one issued after", async () => {
    const sub = uniqueSub();
    const t = nowSeconds();
    expect((await redeem(sub, t - 20)).status).toBe(200);
    const res = await deliver("okta", envelope([deactivation(sub, t - 5)]));
    await expectAcknowledged(res);
    await expectRefusal(await redeem(sub, t - 10), log.last, { error: "invalid_grant", reason: "subject_revoked" });
    await expectRefusal(await redeem(sub, t - 5), log.last, { error: "invalid_grant", reason: "subject_revoked" });
    expect((await redeem(sub, t - 4)).status).toBe(200);
  });

  it("stores revoked_before = published (seconds), mirrors it to KV and audits the revocation", async () => {
    const sub = uniqueSub();
    const t = nowSeconds() - 30;
    const event = deactivation(sub, t);
    const res = await deliver("okta", envelope([event], { eventId: "delivery-1" }));
    await expectAcknowledged(res);
    expect(await storedRevokedBefore(subjectOf(sub))).toBe(t);
    const mirror = await env.CONFIG.get<SubjectRevocationRecord>(await subjectMirrorKey(subjectOf(sub)), "json");
    expect(mirror).toMatchObject({ iss: okta.issuer, sub, revoked_before: t, channel: "okta_event_hook", event_type: "user.lifecycle.deactivate" });
    expect(revocationLines(res)).toEqual([
      expect.objectContaining({ channel: "okta_event_hook", event_id: event.uuid, event_type: "user.lifecycle.deactivate", sub, event_time: t, effective: t, duplicate: false }),
    ]);
    expect(acceptedLine(res)).toMatchObject({ delivery_id: "delivery-1", events: 1, signals: 1, skipped_count: 0 });
  });

  it("answers a duplicate delivery exactly like the first and changes nothing", async () => {
    const sub = uniqueSub();
    const t = nowSeconds() - 30;
    const body = envelope([deactivation(sub, t)]);
    const first = await deliver("okta", body);
    await expectAcknowledged(first);
    const again = await deliver("okta", body);
    await expectAcknowledged(again);
    expect(await storedRevokedBefore(subjectOf(sub))).toBe(t);
    expect(revocationLines(again)).toEqual([expect.objectContaining({ effective: t, duplicate: true })]);
  });

  it("never lowers revoked_before when an older event arrives after a newer one", async () => {
    const sub = uniqueSub();
    const t = nowSeconds() - 10;
    await expectAcknowledged(await deliver("okta", envelope([deactivation(sub, t)])));
    const late = await deliver("okta", envelope([logEvent(sub, { eventType: "user.lifecycle.suspend", published: iso(t - 600) })]));
    await expectAcknowledged(late);
    expect(await storedRevokedBefore(subjectOf(sub))).toBe(t);
    expect(revocationLines(late)).toEqual([expect.objectContaining({ event_time: t - 600, effective: t })]);
  });

  it("clamps an event dated in the future to the time of receipt", async () => {
    const sub = uniqueSub();
    const before = nowSeconds();
    const res = await deliver("okta", envelope([deactivation(sub, before + 3600)]));
    await expectAcknowledged(res);
    const after = nowSeconds();
    const stored = await storedRevokedBefore(subjectOf(sub));
    expect(stored).toBeGreaterThanOrEqual(before);
    expect(stored).toBeLessThanOrEqual(after);
    // Not locked out for the next hour: an ID-JAG issued after receipt is accepted.
    expect((await redeem(sub, after + 1)).status).toBe(200);
  });

  it("never un-revokes on restore events (activate, reactivate, unsuspend, group add, app assign)", async () => {
    const sub = uniqueSub();
    const t = nowSeconds() - 30;
    await expectAcknowledged(await deliver("okta", envelope([deactivation(sub, t)])));
    const restores = ["user.lifecycle.activate", "user.lifecycle.reactivate", "user.lifecycle.unsuspend", "group.user_membership.add", "application.user_membership.add"];
    const res = await deliver("okta", envelope(restores.map((eventType) => logEvent(sub, { eventType, published: iso(t + 20) }))));
    await expectAcknowledged(res);
    expect(acceptedLine(res)).toMatchObject({ signals: 0, skipped_count: 5 });
    expect(acceptedLine(res)!.skipped.map((s: { reason: string }) => s.reason)).toEqual(Array(5).fill("restore_event"));
    expect(await storedRevokedBefore(subjectOf(sub))).toBe(t);
    await expectRefusal(await redeem(sub, t - 1), log.last, { error: "invalid_grant", reason: "subject_revoked" });
  });

  it("applies a batch: each event type as §9 says, skipping the rest with a 204", async () => {
    const [deactivated, removed, failed, signedOut, unknown] = [uniqueSub(), uniqueSub(), uniqueSub(), uniqueSub(), uniqueSub()];
    const t = nowSeconds() - 30;
    const res = await deliver(
      "okta",
      envelope([
        deactivation(deactivated, t),
        logEvent(removed, { eventType: "group.user_membership.remove", published: iso(t), target: [{ id: "00gENG", type: "UserGroup" }, userTarget(removed)] }),
        logEvent(failed, { eventType: "user.lifecycle.suspend", published: iso(t), outcome: { result: "FAILURE", reason: "denied" } }),
        logEvent("00uIGNORED", { eventType: "user.session.end", published: iso(t), actor: userTarget(signedOut), target: null }),
        logEvent(unknown, { eventType: "user.session.start", published: iso(t) }),
      ]),
    );
    await expectAcknowledged(res);
    expect(acceptedLine(res)).toMatchObject({ events: 5, signals: 2, skipped_count: 3 });
    expect(acceptedLine(res)!.skipped.map((s: { reason: string }) => s.reason)).toEqual(["outcome_not_success", "ignored_by_config", "event_type_ignored"]);
    expect(await storedRevokedBefore(subjectOf(deactivated))).toBe(t);
    expect(await storedRevokedBefore(subjectOf(removed))).toBe(t);
    for (const sub of [failed, signedOut, unknown]) expect(await storedRevokedBefore(subjectOf(sub))).toBeUndefined();
  });

  it("skips an event whose outcome is not SUCCESS, with a 204 and no revocation", async () => {
    const sub = uniqueSub();
    const res = await deliver("okta", envelope([deactivation(sub, nowSeconds(), { outcome: { result: "FAILURE", reason: "INSUFFICIENT_PERMISSIONS" } })]));
    await expectAcknowledged(res);
    expect(acceptedLine(res)!.skipped).toEqual([expect.objectContaining({ reason: "outcome_not_success" })]);
    expect(await storedRevokedBefore(subjectOf(sub))).toBeUndefined();
  });

  it("skips an event type it does not know, with a 204 and no revocation", async () => {
    const sub = uniqueSub();
    const res = await deliver("okta", envelope([deactivation(sub, nowSeconds(), { eventType: "user.mfa.factor.activate" })]));
    await expectAcknowledged(res);
    expect(acceptedLine(res)!.skipped).toEqual([expect.objectContaining({ reason: "event_type_ignored", event_type: "user.mfa.factor.activate" })]);
    expect(await storedRevokedBefore(subjectOf(sub))).toBeUndefined();
  });

  it("acknowledges an empty events array", async () => {
    await expectAcknowledged(await deliver("okta", envelope([])));
  });
});

describe("the verification challenge (GET)", () => {
  const challenge = (issuerId: string, value?: string) =>
    exports.default.fetch(hookUrl(issuerId), { headers: value === undefined ? {} : { "x-okta-verification-challenge": value } });

  it("echoes the header as {verification} JSON, not cached, without needing the secret", async () => {
    const res = await challenge("okta", "X8zKPf3Qm_-2nG9.abc");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.text()).toBe('{"verification":"X8zKPf3Qm_-2nG9.abc"}');
  });

  it("accepts a challenge of exactly 512 characters", async () => {
    expect((await challenge("okta", "c".repeat(512))).status).toBe(200);
  });

  it.each([
    { name: "no challenge header", value: undefined },
    { name: "an empty challenge", value: "" },
    { name: "a challenge of 513 characters", value: "c".repeat(513) },
    { name: "a challenge with a tab", value: "abc\tdef" },
    { name: "a challenge with a DEL character", value: "abc\u007fdef" },
  ])("refuses $name with 400", async ({ value }) => {
    await expectWebhookRefusal(await challenge("okta", value), log, { status: 400, reason: "challenge_invalid" });
  });

  it("answers 404 for an unknown issuer id and for an issuer without a hook, alike", async () => {
    const unknown = await challenge("nobody", "abc");
    const noHook = await challenge("test-idp", "abc");
    await expectWebhookRefusal(unknown.clone(), log, { status: 404, reason: "issuer_unknown", error: "not_found" });
    await expectWebhookRefusal(noHook.clone(), log, { status: 404, reason: "issuer_unknown", error: "not_found" });
    expect(await unknown.text()).toBe(await noHook.text());
  });
});

describe("refused deliveries (§8)", () => {
  const valid = () => envelope([deactivation(uniqueSub(), nowSeconds())]);

  it("refuses a method other than GET and POST with 405 and Allow", async () => {
    const res = await deliver("okta", valid(), { method: "PUT" });
    expect(res.headers.get("allow")).toBe("GET, POST");
    await expectWebhookRefusal(res, log, { status: 405, reason: "method_not_allowed" });
  });

  it("answers 404 for an unknown issuer id and for an issuer without a hook, with the same body", async () => {
    const unknown = await deliver("nobody", valid());
    const noHook = await deliver("test-idp", valid());
    expect(await unknown.clone().text()).toBe(await noHook.clone().text());
    await expectWebhookRefusal(unknown, log, { status: 404, reason: "issuer_unknown", error: "not_found" });
    await expectWebhookRefusal(noHook, log, { status: 404, reason: "issuer_unknown", error: "not_found" });
  });

  it.each([
    { name: "text/plain", contentType: "text/plain" },
    { name: "no content type", contentType: null },
    { name: "application/x-www-form-urlencoded", contentType: "application/x-www-form-urlencoded" },
  ])("refuses $name with 415", async ({ contentType }) => {
    await expectWebhookRefusal(await deliver("okta", valid(), { contentType }), log, { status: 415, reason: "unsupported_content_type" });
  });

  it("accepts application/json with a charset parameter", async () => {
    await expectAcknowledged(await deliver("okta", valid(), { contentType: "application/json; charset=utf-8" }));
  });

  describe("the 256 KiB cap", () => {
    const padded = (bytes: number) => {
      const text = JSON.stringify(valid());
      return text + " ".repeat(bytes - new TextEncoder().encode(text).byteLength);
    };
    it("accepts a body of exactly 256 KiB", async () => {
      await expectAcknowledged(await deliver("okta", padded(MAX_HOOK_BODY_BYTES)));
    });
    it("refuses a body one byte over, by its Content-Length", async () => {
      await expectWebhookRefusal(await deliver("okta", padded(MAX_HOOK_BODY_BYTES + 1)), log, { status: 413, reason: "body_too_large" });
    });
    it("refuses a streamed body without Content-Length once it passes the cap", async () => {
      const chunk = new TextEncoder().encode(" ".repeat(64 * 1024));
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 8) controller.enqueue(chunk);
          else controller.close();
        },
      });
      // Straight to the handler: through the router the runtime pipes the stream, and logs the
      // pipe's abort when we stop reading, which is the point of the test.
      const requestId = crypto.randomUUID();
      const request = new Request(hookUrl("okta"), { method: "POST", headers: { "content-type": "application/json", authorization: HOOK_SECRET }, body });
      expect(request.headers.get("content-length")).toBeNull();
      const res = await handleOktaHook(request, env, testContext(), requestId, "okta");
      res.headers.set("x-request-id", requestId);
      await expectWebhookRefusal(res, log, { status: 413, reason: "body_too_large" });
      expect(sent).toBeLessThan(8);
    });
  });

  describe("the shared secret", () => {
    it("refuses a delivery without the secret header", async () => {
      await expectWebhookRefusal(await deliver("okta", valid(), { secret: null }), log, { status: 401, reason: "secret_mismatch", error: "unauthorized" });
    });
    it("refuses a wrong secret, and writes neither the secret nor the body to the audit line", async () => {
      const body = valid();
      const res = await deliver("okta", body, { secret: "Bearer guessed-secret-123" });
      const line = await expectWebhookRefusal(res, log, { status: 401, reason: "secret_mismatch", error: "unauthorized" });
      expect(line.raw).not.toContain("guessed-secret-123");
      expect(line.raw).not.toContain(String(body.eventId));
    });
    it("refuses the secret with a different case or trailing text", async () => {
      await expectWebhookRefusal(await deliver("okta", valid(), { secret: HOOK_SECRET.toUpperCase() }), log, { status: 401, reason: "secret_mismatch" });
      await expectWebhookRefusal(await deliver("okta", valid(), { secret: `${HOOK_SECRET}x` }), log, { status: 401, reason: "secret_mismatch" });
    });
    it("accepts the second secret during a rotation", async () => {
      await expectAcknowledged(await deliver("okta", valid(), { secret: NEXT_HOOK_SECRET }));
    });
    it("reads the secret from the header the issuer configured, and only from it", async () => {
      await expectAcknowledged(await deliver("okta-custom", valid(), { header: "x-okta-hook-secret" }));
      await expectWebhookRefusal(await deliver("okta-custom", valid()), log, { status: 401, reason: "secret_mismatch" });
    });
  });

  describe("the envelope", () => {
    it.each([
      { name: "a body that is not JSON", body: "eventType=com.okta.event_hook", reason: "body_not_json" },
      { name: "truncated JSON", body: '{"eventType":"com.okta.event_hook","data":{"events":[', reason: "body_not_json" },
      { name: "a repeated member name", body: `{"eventType":"com.okta.event_hook","eventTypeVersion":"1.0","source":"https://acme.okta.example/api/v1/eventHooks/${HOOK_ID}","data":{"events":[]},"data":{"events":[]}}`, reason: "duplicate_json_member" },
      { name: "a JSON array", body: "[]", reason: "envelope_not_object" },
      { name: "bytes that are not UTF-8", body: new Uint8Array([0x7b, 0xff, 0x7d]), reason: "body_not_utf8" },
      { name: "another envelope type", body: envelope([], { eventType: "com.okta.oauth2.tokens.transform" }), reason: "envelope_type_invalid" },
      { name: "an unknown envelope version", body: envelope([], { eventTypeVersion: "2.0" }), reason: "envelope_version_unknown" },
      { name: "another hook's source", body: envelope([], { source: "https://acme.okta.example/api/v1/eventHooks/whoOTHER" }), reason: "hook_id_mismatch" },
      { name: "events that are not an array", body: envelope([], { data: { events: "none" } }), reason: "events_not_array" },
      { name: "no data", body: envelope([], { data: undefined }), reason: "events_not_array" },
    ])("refuses $name with 400", async ({ body, reason }) => {
      const res =
        body instanceof Uint8Array
          ? await exports.default.fetch(hookUrl("okta"), { method: "POST", headers: { "content-type": "application/json", authorization: HOOK_SECRET }, body })
          : await deliver("okta", body);
      await expectWebhookRefusal(res, log, { status: 400, reason });
    });
  });

  it("answers 503 while no policy can be read, so Okta retries", async () => {
    const stored = await env.CONFIG.get("policy:v1");
    await env.CONFIG.delete("policy:v1");
    forgetPolicyForTests();
    try {
      await expectWebhookRefusal(await deliver("okta", valid()), log, { status: 503, reason: "config_unavailable" });
    } finally {
      await env.CONFIG.put("policy:v1", stored!);
      forgetPolicyForTests();
    }
  });
});

describe("a storage failure", () => {
  it("answers 503 and acknowledges nothing when the SubjectShard cannot commit; Okta's retry then applies", async () => {
    const sub = uniqueSub();
    const t = nowSeconds() - 30;
    const body = JSON.stringify(envelope([deactivation(sub, t)]));
    const requestId = crypto.randomUUID();
    const request = new Request(hookUrl("okta"), { method: "POST", headers: { "content-type": "application/json", authorization: HOOK_SECRET }, body });
    const res = await handleOktaHook(request, envWithUnavailableShard(), testContext(), requestId, "okta");
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: "temporarily_unavailable" });
    expect(log.lines.get(requestId)).toEqual([expect.objectContaining({ type: "ema.webhook", outcome: "refused", reason: "store_unavailable" })]);
    expect(await storedRevokedBefore(subjectOf(sub))).toBeUndefined();
    expect(await env.CONFIG.get(await subjectMirrorKey(subjectOf(sub)))).toBeNull();
    expect((await redeem(sub, t - 10)).status).toBe(200);

    await expectAcknowledged(await deliver("okta", body));
    expect(await storedRevokedBefore(subjectOf(sub))).toBe(t);
  });
});
