import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseDelivery, parsePublished, readEvents, type OktaHookConfig } from "../../../workers/authorization-server/webhooks/okta-events";
import { envelope, HOOK_ID, logEvent, userTarget } from "../../support/okta";

const ISS = "https://acme.okta.example";
const ISSUER = { issuer: ISS };
const CONFIG: OktaHookConfig = { secret_sha256: ["x".repeat(43)] };
const PUBLISHED = "2026-03-01T10:15:29.880Z";
const PUBLISHED_S = Math.floor(Date.parse(PUBLISHED) / 1000);

const reasonOf = (r: { ok: boolean; error?: { reason: string } }) => (r.ok ? "ok" : r.error!.reason);
const text = (value: unknown) => JSON.stringify(value);
/** The single outcome of one event: its signals' subs, or its skip reason. */
function outcome(event: unknown, config: OktaHookConfig = CONFIG, issuer: { issuer: string; tenant?: string } = ISSUER) {
  const { signals, skipped } = readEvents([event], issuer, config);
  return skipped.length > 0 ? skipped[0]!.reason : signals.map((s) => s.subject.sub);
}
const event = (overrides: Record<string, unknown> = {}) => logEvent("00uEMPL0042", { published: PUBLISHED, ...overrides });

describe("parseDelivery", () => {
  it("reads Okta's envelope: the events array and the envelope id", () => {
    const body = envelope([event()], { eventId: "env-1" });
    const r = parseDelivery(text(body), undefined);
    expect(r).toEqual({ ok: true, value: { deliveryId: "env-1", events: (body.data as { events: unknown[] }).events } });
  });

  it("accepts an empty events array (nothing to do is not an error)", () => {
    expect(reasonOf(parseDelivery(text(envelope([])), undefined))).toBe("ok");
  });

  it.each([
    { name: "text that is not JSON", body: "{not json", reason: "body_not_json" },
    { name: "truncated JSON", body: text(envelope([event()])).slice(0, -3), reason: "body_not_json" },
    { name: "a repeated member name", body: `{"eventType":"com.okta.event_hook","eventType":"x","eventTypeVersion":"1.0","data":{"events":[]}}`, reason: "duplicate_json_member" },
    { name: "an array root", body: "[]", reason: "envelope_not_object" },
    { name: "a null root", body: "null", reason: "envelope_not_object" },
    { name: "another envelope type", body: text(envelope([], { eventType: "com.okta.oauth2.tokens.transform" })), reason: "envelope_type_invalid" },
    { name: "no envelope type", body: text(envelope([], { eventType: undefined })), reason: "envelope_type_invalid" },
    { name: "an unknown envelope version", body: text(envelope([], { eventTypeVersion: "2.0" })), reason: "envelope_version_unknown" },
    { name: "no envelope version", body: text(envelope([], { eventTypeVersion: undefined })), reason: "envelope_version_unknown" },
    { name: "no data", body: text(envelope([], { data: undefined })), reason: "events_not_array" },
    { name: "events as an object", body: text(envelope([], { data: { events: { 0: {} } } })), reason: "events_not_array" },
    { name: "events missing", body: text(envelope([], { data: {} })), reason: "events_not_array" },
  ])("refuses $name", ({ body, reason }) => {
    expect(reasonOf(parseDelivery(body, undefined))).toBe(reason);
  });

  describe("with hook ids configured", () => {
    it("accepts a source naming a configured hook", () => {
      expect(reasonOf(parseDelivery(text(envelope([])), ["whoOTHER", HOOK_ID]))).toBe("ok");
    });
    it.each([
      { name: "another hook", source: "https://acme.okta.example/api/v1/eventHooks/whoOTHER" },
      { name: "no source", source: undefined },
      { name: "a source that is not a URL", source: "whoHOOK0001" },
      { name: "the hook id elsewhere in the path", source: `https://acme.okta.example/x/api/v1/eventHooks/${HOOK_ID}` },
      { name: "a source that is not a string", source: 7 },
    ])("refuses $name", ({ source }) => {
      expect(reasonOf(parseDelivery(text(envelope([], { source })), [HOOK_ID]))).toBe("hook_id_mismatch");
    });
    it("ignores the source when no hook ids are configured", () => {
      expect(reasonOf(parseDelivery(text(envelope([], { source: "nonsense" })), undefined))).toBe("ok");
    });
  });

  it("answers any input with a value or a known reason, never an exception", () => {
    const known = new Set(["ok", "body_not_json", "duplicate_json_member", "envelope_not_object", "envelope_type_invalid", "envelope_version_unknown", "hook_id_mismatch", "events_not_array"]);
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => text(envelope([], { data: v })))), (input) => {
        expect(known.has(reasonOf(parseDelivery(input, [HOOK_ID])))).toBe(true);
      }),
    );
  });
});

describe("readEvents: which events revoke (§2.5, §9)", () => {
  it.each([
    "user.lifecycle.deactivate",
    "user.lifecycle.suspend",
    "user.lifecycle.delete.initiated",
    "user.session.clear",
    "user.authentication.universal_logout",
    "user.authentication.universal_logout.scheduled",
    "group.user_membership.remove",
    "application.user_membership.remove",
  ])("revokes the target User on %s, as of published (seconds, rounded down)", (eventType) => {
    const e = event({ eventType, uuid: "uuid-1" });
    expect(readEvents([e], ISSUER, CONFIG)).toEqual({
      signals: [{ subject: { iss: ISS, sub: "00uEMPL0042" }, eventTime: PUBLISHED_S, eventId: "uuid-1", eventType }],
      skipped: [],
    });
  });

  it.each(["user.lifecycle.activate", "user.lifecycle.reactivate", "user.lifecycle.unsuspend", "user.account.unlock", "group.user_membership.add", "application.user_membership.add"])(
    "never acts on the restore event %s",
    (eventType) => {
      expect(outcome(event({ eventType }))).toBe("restore_event");
    },
  );

  it.each(["user.session.start", "user.account.lock", "event_hook.verified", "constructor", "__proto__", "toString"])("skips the event type %s, which is not in the table", (eventType) => {
    expect(outcome(event({ eventType }))).toBe("event_type_ignored");
  });

  it("puts the issuer's pinned tenant into the subject", () => {
    const { signals } = readEvents([event()], { issuer: ISS, tenant: "acme" }, CONFIG);
    expect(signals[0]!.subject).toEqual({ iss: ISS, tenant: "acme", sub: "00uEMPL0042" });
  });
});

describe("readEvents: what an event must carry", () => {
  it.each([
    { name: "a FAILURE outcome", change: { outcome: { result: "FAILURE", reason: "x" } }, reason: "outcome_not_success" },
    { name: "an ALLOW outcome", change: { outcome: { result: "ALLOW" } }, reason: "outcome_not_success" },
    { name: "no outcome", change: { outcome: undefined }, reason: "outcome_not_success" },
    { name: "no uuid", change: { uuid: undefined }, reason: "uuid_invalid" },
    { name: "an empty uuid", change: { uuid: "" }, reason: "uuid_invalid" },
    { name: "a numeric uuid", change: { uuid: 5 }, reason: "uuid_invalid" },
    { name: "no published", change: { published: undefined }, reason: "published_invalid" },
    { name: "a published without a zone", change: { published: "2026-03-01T10:15:29.880" }, reason: "published_invalid" },
    { name: "a published date only", change: { published: "2026-03-01" }, reason: "published_invalid" },
    { name: "a published in another format", change: { published: "Sun, 01 Mar 2026 10:15:29 GMT" }, reason: "published_invalid" },
    { name: "a published before 1970", change: { published: "1969-12-31T23:59:59.000Z" }, reason: "published_invalid" },
    { name: "an impossible published", change: { published: "2026-13-45T10:15:29.880Z" }, reason: "published_invalid" },
    { name: "a numeric published", change: { published: 1772360129880 }, reason: "published_invalid" },
    { name: "no eventType", change: { eventType: undefined }, reason: "event_type_missing" },
    { name: "a null target", change: { target: null }, reason: "no_user_subject" },
    { name: "no User among the targets", change: { target: [{ id: "00gGROUP", type: "UserGroup" }] }, reason: "no_user_subject" },
    { name: "a User target without an id", change: { target: [{ type: "User" }] }, reason: "subject_invalid" },
    { name: "an empty User id", change: { target: [{ id: "", type: "User" }] }, reason: "subject_invalid" },
    { name: "a numeric User id", change: { target: [{ id: 42, type: "User" }] }, reason: "subject_invalid" },
    { name: "a User id with a control character", change: { target: [{ id: "00u\nX", type: "User" }] }, reason: "subject_invalid" },
    { name: "an overlong User id", change: { target: [{ id: "u".repeat(256), type: "User" }] }, reason: "subject_invalid" },
  ])("skips an event with $name", ({ change, reason }) => {
    expect(outcome(event(change))).toBe(reason);
  });

  it("skips an event that is not an object", () => {
    expect(readEvents([null, "x", [1]], ISSUER, CONFIG).skipped.map((s) => s.reason)).toEqual(["event_not_object", "event_not_object", "event_not_object"]);
  });

  it("accepts a User id of exactly 255 characters", () => {
    expect(outcome(event({ target: [{ id: "u".repeat(255), type: "User" }] }))).toEqual(["u".repeat(255)]);
  });

  it("finds the User by type, never by position", () => {
    const target = [{ id: "00gGROUP", type: "UserGroup" }, { id: "0oaAPP", type: "AppInstance" }, userTarget("00uSECOND")];
    expect(outcome(event({ eventType: "group.user_membership.remove", target }))).toEqual(["00uSECOND"]);
  });

  it("revokes each User an event names, with an event id per user", () => {
    const { signals } = readEvents([event({ uuid: "u-2", target: [userTarget("00uA"), userTarget("00uB"), userTarget("00uA")] })], ISSUER, CONFIG);
    expect(signals.map((s) => [s.subject.sub, s.eventId])).toEqual([["00uA", "u-2:00uA"], ["00uB", "u-2:00uB"]]);
  });

  it("keeps the other events of a batch when one is skipped", () => {
    const r = readEvents([event({ outcome: { result: "FAILURE" } }), event({ target: [userTarget("00uOK")] })], ISSUER, CONFIG);
    expect(r.signals.map((s) => s.subject.sub)).toEqual(["00uOK"]);
    expect(r.skipped.map((s) => s.reason)).toEqual(["outcome_not_success"]);
  });

  it("records the uuid and type of a skipped event for the audit line", () => {
    expect(readEvents([event({ uuid: "u-9", eventType: "user.session.start" })], ISSUER, CONFIG).skipped).toEqual([{ uuid: "u-9", eventType: "user.session.start", reason: "event_type_ignored" }]);
  });
});

describe("readEvents: per-issuer settings", () => {
  it("revokes on group removal by default, and not with group_removal: ignore", () => {
    const e = event({ eventType: "group.user_membership.remove", target: [userTarget("00uG"), { id: "00gGROUP", type: "UserGroup" }] });
    expect(outcome(e)).toEqual(["00uG"]);
    expect(outcome(e, { ...CONFIG, group_removal: "ignore" })).toBe("ignored_by_config");
  });

  it("cannot name the members of a deleted group (no User target), and says so", () => {
    const e = event({ eventType: "group.lifecycle.delete", target: [{ id: "00gGROUP", type: "UserGroup" }] });
    expect(outcome(e)).toBe("no_user_subject");
    expect(outcome(e, { ...CONFIG, group_removal: "ignore" })).toBe("ignored_by_config");
  });

  describe("application.user_membership.remove", () => {
    const unassign = (appId: string) =>
      event({ eventType: "application.user_membership.remove", target: [{ id: appId, type: "AppInstance" }, { id: "0uaAPPUSER", type: "AppUser" }, userTarget("00uAPP")] });
    it("revokes for any app when no app_instance_ids are configured", () => {
      expect(outcome(unassign("0oaANY"))).toEqual(["00uAPP"]);
    });
    it("revokes for a listed app instance", () => {
      expect(outcome(unassign("0oaOURS"), { ...CONFIG, app_instance_ids: ["0oaOURS"] })).toEqual(["00uAPP"]);
    });
    it("skips another app instance when app_instance_ids are configured", () => {
      expect(outcome(unassign("0oaOTHER"), { ...CONFIG, app_instance_ids: ["0oaOURS"] })).toBe("app_not_ours");
    });
    it("skips an unassignment naming no app instance when app_instance_ids are configured", () => {
      expect(outcome(event({ eventType: "application.user_membership.remove" }), { ...CONFIG, app_instance_ids: ["0oaOURS"] })).toBe("app_not_ours");
    });
  });

  describe("user.session.end", () => {
    const signOut = (actor: unknown) => event({ eventType: "user.session.end", actor, target: null });
    it("is ignored by default", () => {
      expect(outcome(signOut(userTarget("00uSELF")))).toBe("ignored_by_config");
    });
    it("revokes the actor (its target is null) with session_end: revoke", () => {
      expect(outcome(signOut(userTarget("00uSELF")), { ...CONFIG, session_end: "revoke" })).toEqual(["00uSELF"]);
    });
    it("skips an actor that is not a User", () => {
      expect(outcome(signOut({ id: "0oaCLIENT", type: "PublicClientApp" }), { ...CONFIG, session_end: "revoke" })).toBe("no_user_subject");
    });
  });
});

describe("parsePublished", () => {
  it.each([
    { value: "2026-03-01T10:15:29.880Z", seconds: 1772360129 },
    { value: "2026-03-01T10:15:29Z", seconds: 1772360129 },
    { value: "2026-03-01T10:15:29.999Z", seconds: 1772360129 },
    { value: "2026-03-01T11:15:29.000+01:00", seconds: 1772360129 },
  ])("reads $value as $seconds", ({ value, seconds }) => {
    expect(parsePublished(value)).toBe(seconds);
  });
});

describe("readEvents on arbitrary input", () => {
  it("gives every event signals or one skip, for this issuer only, at a time ≥ 0", () => {
    const anyEvent = fc.oneof(
      fc.jsonValue(),
      fc.record({
        uuid: fc.oneof(fc.string(), fc.constant(undefined)),
        eventType: fc.constantFrom("user.lifecycle.deactivate", "user.session.end", "group.user_membership.add", "x"),
        published: fc.oneof(fc.string(), fc.date({ noInvalidDate: true }).map((d) => d.toISOString())),
        outcome: fc.oneof(fc.constant({ result: "SUCCESS" }), fc.jsonValue()),
        target: fc.oneof(fc.constant(null), fc.array(fc.record({ id: fc.jsonValue(), type: fc.constantFrom("User", "UserGroup", "AppInstance") }))),
        actor: fc.jsonValue(),
      }),
    );
    fc.assert(
      fc.property(fc.array(anyEvent, { maxLength: 5 }), (events) => {
        const { signals, skipped } = readEvents(events, ISSUER, { ...CONFIG, session_end: "revoke" });
        expect(skipped.length).toBeLessThanOrEqual(events.length);
        for (const s of signals) {
          expect(s.subject.iss).toBe(ISS);
          expect(s.eventTime).toBeGreaterThanOrEqual(0);
          expect(Number.isInteger(s.eventTime)).toBe(true);
        }
      }),
    );
  });
});
