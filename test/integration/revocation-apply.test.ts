// The revocation core every channel uses: clamp, coalesce, monotonic, duplicates, KV mirror, audit,
// and failing loudly when the Durable Object does not commit.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { applyRevocations, type RevocationSignal } from "../../workers/authorization-server/revocation/apply";
import { isRevokedInMirror, subjectMirrorKey } from "../../workers/lib/revocation-mirror";
import { StoreUnavailableError } from "../../workers/lib/store-error";
import { captureAudit, expectRefusal, JWT_BEARER, setupWorld, type World } from "../support/world";

let world: World;
let audit: Map<string, Record<string, any>>;
const now = () => Math.floor(Date.now() / 1000);
beforeAll(async () => {
  world = await setupWorld();
  audit = captureAudit();
});

const signal = (sub: string, eventTime: number, eventId = crypto.randomUUID(), eventType = "user.lifecycle.deactivate"): RevocationSignal => ({
  subject: { iss: world.idp.issuer, sub },
  eventTime,
  channel: "admin",
  eventId,
  eventType,
});

describe("applyRevocations", () => {
  it("refuses the next exchange of an ID-JAG issued at or before the event, and accepts a later one", async () => {
    const t = now();
    const [applied] = await applyRevocations(env, [signal("ann", t - 5)], t, "req-1");
    expect(applied).toMatchObject({ effective: t - 5, duplicate: false });
    const before = await world.exchange({ grant_type: JWT_BEARER, assertion: await world.assertion({ sub: "ann", iat: t - 5, exp: t + 200 }) });
    await expectRefusal(before, audit, { error: "invalid_grant", reason: "subject_revoked" });
    const after = await world.exchange({ grant_type: JWT_BEARER, assertion: await world.assertion({ sub: "ann", iat: t - 4, exp: t + 200 }) });
    expect(after.status).toBe(200);
  });

  it("clamps an event time in the future to the time of receipt", async () => {
    const t = now();
    const [applied] = await applyRevocations(env, [signal("fay", t + 86_400)], t, "req-2");
    expect(applied!.effective).toBe(t);
  });

  it("never lowers revoked_before: an older event after a newer one changes nothing", async () => {
    const t = now();
    await applyRevocations(env, [signal("ola", t - 10)], t, "req-3");
    const [older] = await applyRevocations(env, [signal("ola", t - 100)], t, "req-4");
    expect(older!.effective).toBe(t - 10);
  });

  it("coalesces several events for one subject in a batch, and reports a redelivered event as a duplicate", async () => {
    const t = now();
    const id = crypto.randomUUID();
    const first = await applyRevocations(env, [signal("bea", t - 30, id), signal("bea", t - 20), signal("cid", t - 25)], t, "req-5");
    expect(first.map((a) => [a.signal.subject.sub, a.effective, a.duplicate])).toEqual([
      ["bea", t - 30, false],
      ["bea", t - 20, false],
      ["cid", t - 25, false],
    ]);
    const again = await applyRevocations(env, [signal("bea", t - 30, id)], t, "req-6");
    expect(again[0]).toMatchObject({ effective: t - 20, duplicate: true });
  });

  it("mirrors the subject's revocation to KV with an expiry, for offline verifiers", async () => {
    const t = now();
    await applyRevocations(env, [signal("dan", t - 1)], t, "req-7");
    const { keys } = await env.CONFIG.list({ prefix: await subjectMirrorKey({ iss: world.idp.issuer, sub: "dan" }) });
    expect(keys).toHaveLength(1);
    expect(keys[0]!.expiration).toBeGreaterThan(t + 3600);
    expect(await isRevokedInMirror(env.CONFIG, { idp: world.idp.issuer, sub: "dan", jti: "x", iat: t - 1 })).toBe(true);
    expect(await isRevokedInMirror(env.CONFIG, { idp: world.idp.issuer, sub: "dan", jti: "x", iat: t })).toBe(false);
    expect(await isRevokedInMirror(env.CONFIG, { idp: world.idp.issuer, sub: "eve", jti: "x", iat: t - 100 })).toBe(false);
  });

  it("writes one audit event per signal: channel, event id, subject, received and effective times", async () => {
    const t = now();
    await applyRevocations(env, [signal("gus", t - 3, "evt-42", "user.session.clear")], t, "req-audit");
    expect(audit.get("req-audit")).toMatchObject({
      type: "ema.revocation",
      channel: "admin",
      event_id: "evt-42",
      event_type: "user.session.clear",
      sub: "gus",
      received_at: t,
      effective: t - 3,
      duplicate: false,
      mirrored: true,
    });
  });

  it("throws StoreUnavailableError when the Durable Object does not answer, so webhooks answer 5xx", async () => {
    const failing = {
      ...env,
      SUBJECT_SHARD: {
        idFromName: (n: string) => env.SUBJECT_SHARD.idFromName(n),
        get: () => ({ applyRevocations: () => Promise.reject(new Error("overloaded")) }),
      } as unknown as typeof env.SUBJECT_SHARD,
    };
    await expect(applyRevocations(failing, [signal("hal", now())], now(), "req-8")).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
