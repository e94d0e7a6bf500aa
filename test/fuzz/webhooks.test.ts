// Properties of the webhook parsers: the Okta Event Hook envelope and its LogEvents, the Security
// Event Token (header, claims, subject, event), and Okta Universal Logout (bearer, JWT, body). Any
// input yields a value or a known refusal (or, for a LogEvent, a known skip), never an exception.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkLogoutClaims, checkLogoutHeader, parseLogoutBody, readBearer } from "../../workers/authorization-server/webhooks/logout-request";
import { parseDelivery, parsePublished, readEvents, type SkipReason } from "../../workers/authorization-server/webhooks/okta-events";
import { WEBHOOK_REASONS } from "../../workers/authorization-server/webhooks/responses";
import { checkSetHeader, eventTimeOf, parseSubject, validateSetClaims } from "../../workers/authorization-server/webhooks/set";
import { checkStreamSubject, classifyEvent, targetOf } from "../../workers/authorization-server/webhooks/ssf-events";
import type { SignatureAlgorithm } from "../../workers/lib/kv-records";
import { SET_REASONS } from "./reasons";
import { check, expectKnownOutcome, json, jsonObject, jsonText, mutated, nearLimit, numberish, reasonSet, TIMEOUT_MS } from "./support";

const NOW = 1_800_000_000;
const ISO_NOW = new Date(NOW * 1000).toISOString();
const ENVELOPE_REASONS = ["body_not_json", "duplicate_json_member", "envelope_not_object", "envelope_type_invalid", "envelope_version_unknown", "hook_id_mismatch", "events_not_array"] as const;
const SKIP_REASONS = reasonSet<SkipReason>({
  event_not_object: true, event_type_missing: true, event_type_ignored: true, restore_event: true, outcome_not_success: true, uuid_invalid: true,
  published_invalid: true, ignored_by_config: true, app_not_ours: true, no_user_subject: true, subject_invalid: true,
});
const WEBHOOK_REASON_SET = new Set(Object.keys(WEBHOOK_REASONS));

const OKTA_TYPES = [
  "user.lifecycle.deactivate", "user.session.clear", "group.user_membership.remove", "group.lifecycle.delete", "application.user_membership.remove",
  "user.session.end", "user.lifecycle.activate", "user.account.lock", "constructor", "__proto__",
];
const entity = (type: string) => mutated({ id: "00u1", type }, { id: fc.constantFrom("", "a\nb", "x".repeat(256), 7), type: fc.constantFrom("User", "AppInstance", "Group", "user") });
const logEvent = mutated(
  { uuid: "e-1", published: ISO_NOW, eventType: "user.lifecycle.deactivate", outcome: { result: "SUCCESS" }, actor: { id: "00u0", type: "User" }, target: [{ id: "00u1", type: "User" }] },
  {
    uuid: fc.constantFrom("", "x".repeat(256), "a\u0000b"),
    published: fc.oneof(fc.constantFrom("2026-13-45T99:99:99Z", "2026-01-01T00:00:00.123456789+05:00", "1969-12-31T23:59:59Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z", ""), fc.date().map((d) => (Number.isNaN(d.getTime()) ? "x" : d.toISOString()))),
    eventType: fc.constantFrom(...OKTA_TYPES),
    outcome: fc.constantFrom({ result: "FAILURE" }, { result: "SUCCESS" }, null, "SUCCESS"),
    target: fc.oneof(fc.array(fc.oneof(entity("User"), entity("AppInstance"), json), { maxLength: 4 }), fc.constant(null)),
    actor: fc.oneof(entity("User"), json),
  },
);
const envelope = fc.array(fc.oneof({ weight: 4, arbitrary: logEvent }, { weight: 1, arbitrary: json }), { maxLength: 5 }).chain((events) =>
  mutated(
    { eventType: "com.okta.event_hook", eventTypeVersion: "1.0", source: "https://acme.okta.example/api/v1/eventHooks/who1", eventId: "d-1", data: { events } },
    {
      eventTypeVersion: fc.constantFrom("1.1", 1, "1.0"),
      source: fc.oneof(fc.constantFrom("https://x/api/v1/eventHooks/who2", "not a url", "https://x/api/v1/eventHooks/"), fc.webUrl()),
      data: fc.oneof(fc.constant({ events: "x" }), json),
    },
  ),
);

describe("webhooks/okta-events.ts", () => {
  it("parses any delivery body into events or a known envelope refusal", async () => {
    await check("webhooks/okta-events parseDelivery", fc.property(jsonText(fc.oneof({ weight: 4, arbitrary: envelope }, { weight: 1, arbitrary: json })), fc.constantFrom(undefined, ["who1"], []), (text, hookIds) => {
      const r = parseDelivery(text, hookIds);
      expectKnownOutcome(r, ENVELOPE_REASONS);
      if (!r.ok) expect(WEBHOOK_REASON_SET.has(r.error.reason)).toBe(true);
      else expect(Array.isArray(r.value.events)).toBe(true);
    }));
  }, TIMEOUT_MS);
  it("turns any list of LogEvents into signals for our issuer or known skips, one outcome per event", async () => {
    const config = fc.record(
      { secret_sha256: fc.constant<string[]>(["x"]), group_removal: fc.constantFrom<"revoke" | "ignore">("revoke", "ignore"), session_end: fc.constantFrom<"revoke" | "ignore">("revoke", "ignore"), app_instance_ids: fc.constantFrom<string[]>(["0oa1"], []) },
      { requiredKeys: ["secret_sha256"] },
    );
    await check("webhooks/okta-events readEvents", fc.property(fc.array(fc.oneof({ weight: 4, arbitrary: logEvent }, { weight: 1, arbitrary: json }), { maxLength: 6 }), config, fc.option(fc.constant("acme"), { nil: undefined }), (events, cfg, tenant) => {
      const issuer = { issuer: "https://acme.okta.example", ...(tenant !== undefined && { tenant }) };
      const { signals, skipped } = readEvents(events, issuer, cfg);
      for (const s of skipped) expect(SKIP_REASONS.has(s.reason)).toBe(true);
      for (const s of signals) {
        expect(s.subject.iss).toBe(issuer.issuer);
        expect(Number.isSafeInteger(s.eventTime) && s.eventTime >= 0).toBe(true);
        expect(s.subject.sub.length).toBeGreaterThan(0);
      }
      // One skip or at least one signal per event.
      expect(skipped.length).toBeLessThanOrEqual(events.length);
    }));
  }, TIMEOUT_MS);
  it("reads any `published` value as epoch seconds or undefined", async () => {
    await check("webhooks/okta-events parsePublished", fc.property(fc.oneof(json, fc.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,12})?(Z|[+-]\d{2}:\d{2})$/)), (value) => {
      const t = parsePublished(value);
      if (t !== undefined) expect(Number.isSafeInteger(t) && t >= 0).toBe(true);
    }));
  }, TIMEOUT_MS);
});

const SET_ISSUER = "https://transmitter.example";
const SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
const EVENT_TYPES = [
  SESSION_REVOKED,
  "https://schemas.openid.net/secevent/caep/event-type/credential-change",
  "https://schemas.openid.net/secevent/ssf/event-type/verification",
  "https://schemas.openid.net/secevent/ssf/event-type/stream-updated",
  "https://schemas.openid.net/secevent/risc/event-type/account-enabled",
  "urn:example:unknown",
  "__proto__",
];
const simpleSubject = mutated(
  { format: "iss_sub", iss: SET_ISSUER, sub: "user-1" },
  { format: fc.constantFrom("email", "opaque", "complex", "phone_number", "", "x".repeat(65)), email: fc.constantFrom("a@b", "ab", "a\n@b"), id: fc.constantFrom("stream-1", ""), sub: nearLimit(1024), iss: fc.constantFrom("https://other.example") },
);
const subject = fc.oneof(
  simpleSubject,
  fc.dictionary(fc.constantFrom("format", "user", "tenant", "device", "session", "group", "x"), fc.oneof(simpleSubject, fc.constant("complex"), json), { maxKeys: 4 }),
  json,
);
const event = mutated(
  { event_timestamp: NOW, initiating_entity: "admin" },
  { event_timestamp: fc.oneof(numberish, fc.constant(NOW * 1000)), change_type: fc.constantFrom("create", "revoke", "update", "delete", 1), state: json, status: fc.constantFrom("enabled", "paused", "disabled", "on"), subject },
);
const setClaims = mutated(
  { iss: SET_ISSUER, aud: "https://as.example.test", iat: NOW, jti: "set-1", sub_id: { format: "iss_sub", iss: SET_ISSUER, sub: "user-1" }, events: { [SESSION_REVOKED]: { event_timestamp: NOW } } },
  {
    aud: fc.constantFrom(["https://as.example.test", "x"], [], "x"),
    iat: numberish, toe: numberish, jti: fc.oneof(nearLimit(256), fc.constant("")), sub_id: subject,
    events: fc.oneof(fc.dictionary(fc.constantFrom(...EVENT_TYPES), fc.oneof(event, json), { maxKeys: 2 }), json),
  },
);
const ALGS: SignatureAlgorithm[] = ["RS256", "ES256"];

describe("webhooks/set.ts and ssf-events.ts", () => {
  it("checks any SET header against any algorithm list: alg and kid, or a known refusal", async () => {
    const header = mutated({ typ: "secevent+jwt", alg: "RS256", kid: "k1" }, { typ: fc.constantFrom("JWT", "application/SECEVENT+JWT"), alg: fc.constantFrom("ES256", "HS256", "none", "EdDSA"), kid: fc.oneof(nearLimit(256), fc.constant("")), crit: fc.constant(["x"]) });
    await check("webhooks/set checkSetHeader", fc.property(fc.oneof(header, jsonObject), fc.subarray(ALGS), (h, algs) => {
      const r = checkSetHeader(h, algs);
      expectKnownOutcome(r, ["typ_invalid", "crit_unsupported", "alg_not_allowed", "kid_missing"]);
      if (r.ok) expect(algs).toContain(r.value.alg);
    }));
  }, TIMEOUT_MS);
  it("validates any SET claims, classifies its event and resolves its subject, or refuses with a known reason", async () => {
    await check("webhooks/set validateSetClaims+classifyEvent+targetOf", fc.property(fc.oneof({ weight: 4, arbitrary: setClaims }, { weight: 1, arbitrary: jsonObject }), fc.option(fc.constant("acme"), { nil: undefined }), fc.subarray(["user", "group", "device", "x"]), (payload, tenant, critical) => {
      const r = validateSetClaims(payload, { issuer: SET_ISSUER, audience: "https://as.example.test" });
      expectKnownOutcome(r, SET_REASONS);
      if (!r.ok) return;
      expect(Number.isFinite(r.value.eventTime) && r.value.eventTime >= 0).toBe(true);
      expectKnownOutcome(classifyEvent(r.value.eventType, r.value.event), SET_REASONS);
      expectKnownOutcome(checkStreamSubject(r.value.subject, "stream-1"), SET_REASONS);
      expectKnownOutcome(targetOf(r.value.subject, { issuer: SET_ISSUER, ...(tenant !== undefined && { tenant }) }, critical), SET_REASONS);
    }));
  }, TIMEOUT_MS);
  it("parses any subject identifier and any event time, or refuses with a known reason", async () => {
    await check("webhooks/set parseSubject+eventTimeOf", fc.property(subject, fc.oneof(event, jsonObject), json, numberish, (value, ev, toe, iat) => {
      expectKnownOutcome(parseSubject(value), SET_REASONS);
      const t = eventTimeOf(ev, toe, iat);
      expectKnownOutcome(t, SET_REASONS);
    }));
  }, TIMEOUT_MS);
});

const LOGOUT_ISSUER = "https://acme.okta.example";
const LOGOUT_AUD = "https://as.example.test/logout/okta/okta";
const LOGOUT_REASONS = new Set([...WEBHOOK_REASON_SET]);

describe("webhooks/logout-request.ts", () => {
  it("reads any Authorization header as a bearer token or a known refusal", async () => {
    const header = fc.oneof(fc.constant(null), fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }).map((s) => `Bearer ${s}`), nearLimit(8192).map((s) => `bearer ${s}`), fc.constantFrom("Bearer", "Bearer  a.b.c", "BEARER a==", "Bearer a=b"));
    await check("webhooks/logout-request readBearer", fc.property(header, (h) => expectKnownOutcome(readBearer(h), ["bearer_missing", "token_malformed"])));
  }, TIMEOUT_MS);
  it("checks any logout JWT header and claims at any clock, or refuses with a known reason", async () => {
    const header = mutated({ typ: "global-token-revocation+jwt", alg: "RS256", kid: "k1" }, { typ: fc.constantFrom("JWT", "secevent+jwt"), alg: fc.constantFrom("ES256", "HS256", "none"), kid: fc.oneof(nearLimit(256), fc.constant("")), crit: fc.constant([]) });
    const claims = mutated(
      { iss: LOGOUT_ISSUER, aud: LOGOUT_AUD, sub: "0oa-client", iat: NOW, exp: NOW + 300, jti: "j1" },
      { aud: fc.constantFrom([LOGOUT_AUD], [LOGOUT_AUD, "x"], []), iat: numberish, exp: numberish, nbf: numberish, jti: fc.oneof(nearLimit(256), fc.constant("")) },
    );
    const now = fc.oneof(fc.constant(NOW), fc.integer({ min: 0, max: 2 ** 40 }));
    await check("webhooks/logout-request checkLogoutHeader+checkLogoutClaims", fc.property(fc.oneof(header, jsonObject), fc.oneof(claims, jsonObject), now, (h, c, clock) => {
      expectKnownOutcome(checkLogoutHeader(h, ALGS), LOGOUT_REASONS);
      expectKnownOutcome(checkLogoutClaims(c, { issuer: LOGOUT_ISSUER, audience: LOGOUT_AUD, clientId: "0oa-client" }, clock), LOGOUT_REASONS);
    }));
  }, TIMEOUT_MS);
  it("parses any logout body into our subject or email, or a known refusal", async () => {
    const subId = mutated({ format: "iss_sub", iss: LOGOUT_ISSUER, sub: "00u1" }, { format: fc.constantFrom("email", "opaque", "complex"), email: fc.constantFrom("a@b", "a b@c", "@", "x".repeat(321)), sub: nearLimit(255), iss: nearLimit(2048) });
    const body = jsonText(fc.oneof(subId.map((sub_id) => ({ sub_id })), mutated({ sub_id: { format: "email", email: "a@b" } }), json));
    await check("webhooks/logout-request parseLogoutBody", fc.property(body, (text) => {
      const r = parseLogoutBody(text, LOGOUT_ISSUER);
      expectKnownOutcome(r, ["body_not_json", "duplicate_json_member", "sub_id_missing", "sub_id_format_unsupported", "sub_id_invalid", "subject_issuer_mismatch"]);
      if (!r.ok) expect(LOGOUT_REASONS.has(r.error.reason)).toBe(true);
    }));
  }, TIMEOUT_MS);
});

