import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { SignatureAlgorithm } from "../../../workers/lib/kv-records";
import {
  checkSetHeader,
  eventTimeOf,
  MAX_IDENTIFIER_LENGTH,
  MILLISECOND_TIMESTAMP_THRESHOLD,
  parseSubject,
  validateSetClaims,
} from "../../../workers/authorization-server/webhooks/set";
import type { SetReason } from "../../../workers/authorization-server/webhooks/set-errors";

const TRANSMITTER = "https://idp.example.test";
const US = "https://as.example.test";
const SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
const expected = { issuer: TRANSMITTER, audience: US };

const payload = (overrides: Record<string, unknown> = {}): Record<string, unknown> => {
  const p: Record<string, unknown> = {
    iss: TRANSMITTER,
    aud: US,
    iat: 1_767_262_531,
    jti: "3b9f2c7e41d04a0f",
    sub_id: { format: "iss_sub", iss: TRANSMITTER, sub: "00uEMPL0042" },
    events: { [SESSION_REVOKED]: { event_timestamp: 1_767_262_529 } },
  };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete p[k];
    else p[k] = v;
  }
  return p;
};
const claimsReason = (p: Record<string, unknown>) => {
  const r = validateSetClaims(p, expected);
  return r.ok ? "ok" : r.error.reason;
};
const headerReason = (h: Record<string, unknown>, algorithms: readonly SignatureAlgorithm[] = ["RS256"]) => {
  const r = checkSetHeader(h, algorithms);
  return r.ok ? "ok" : r.error.reason;
};

describe("checkSetHeader", () => {
  it.each(["secevent+jwt", "SECEVENT+JWT", "application/secevent+jwt", "Application/SecEvent+JWT"])("accepts typ %s", (typ) => {
    expect(headerReason({ typ, alg: "RS256", kid: "k1" })).toBe("ok");
  });
  it.each([undefined, "JWT", "jwt", "oauth-id-jag+jwt", "secevent", " secevent+jwt", "application/jwt", 1])("refuses typ %s", (typ) => {
    expect(headerReason({ typ, alg: "RS256", kid: "k1" })).toBe("typ_invalid");
  });
  it.each(["none", "HS256", "HS512", "ES256", "RSA-OAEP", "", undefined, 7])("refuses alg %s under the default RS256 list", (alg) => {
    expect(headerReason({ typ: "secevent+jwt", alg, kid: "k1" })).toBe("alg_not_allowed");
  });
  it("accepts an algorithm the stream allows", () => {
    expect(checkSetHeader({ typ: "secevent+jwt", alg: "ES256", kid: "k1" }, ["RS256", "ES256"])).toEqual({ ok: true, value: { alg: "ES256", kid: "k1" } });
  });
  it("refuses none and HS256 even when a misconfigured list names them", () => {
    const list = ["none", "HS256"] as unknown as SignatureAlgorithm[];
    expect(headerReason({ typ: "secevent+jwt", alg: "none", kid: "k1" }, list)).toBe("alg_not_allowed");
    expect(headerReason({ typ: "secevent+jwt", alg: "HS256", kid: "k1" }, list)).toBe("alg_not_allowed");
  });
  it.each([undefined, "", 5, "k".repeat(257)])("refuses kid %j", (kid) => {
    expect(headerReason({ typ: "secevent+jwt", alg: "RS256", kid })).toBe("kid_missing");
  });
  it("refuses any crit", () => {
    expect(headerReason({ typ: "secevent+jwt", alg: "RS256", kid: "k1", crit: [] })).toBe("crit_unsupported");
  });
});

describe("validateSetClaims", () => {
  it("extracts the event, subject, jti and event time of a valid SET", () => {
    expect(validateSetClaims(payload(), expected)).toEqual({
      ok: true,
      value: {
        jti: "3b9f2c7e41d04a0f",
        iat: 1_767_262_531,
        eventType: SESSION_REVOKED,
        event: { event_timestamp: 1_767_262_529 },
        subject: { format: "iss_sub", iss: TRANSMITTER, sub: "00uEMPL0042" },
        eventTime: 1_767_262_529,
      },
    });
  });

  it("accepts an aud array that contains our audience", () => {
    expect(claimsReason(payload({ aud: ["https://elsewhere.example", US] }))).toBe("ok");
  });

  it("tolerates claims it does not know (txn, toe, extra members)", () => {
    expect(claimsReason(payload({ txn: "ab12", toe: 1, "https://x.example/claim": {} }))).toBe("ok");
  });

  const cases: { name: string; change: Record<string, unknown>; reason: SetReason }[] = [
    { name: "another iss", change: { iss: "https://evil.example" }, reason: "iss_mismatch" },
    { name: "an iss with a trailing slash", change: { iss: `${TRANSMITTER}/` }, reason: "iss_mismatch" },
    { name: "no aud", change: { aud: undefined }, reason: "aud_mismatch" },
    { name: "another aud", change: { aud: "https://other.example" }, reason: "aud_mismatch" },
    { name: "an aud array without us", change: { aud: ["https://other.example"] }, reason: "aud_mismatch" },
    { name: "no iat", change: { iat: undefined }, reason: "claim_missing" },
    { name: "a string iat", change: { iat: "1767262531" }, reason: "claim_invalid" },
    { name: "a negative iat", change: { iat: -1 }, reason: "claim_invalid" },
    { name: "no jti", change: { jti: undefined }, reason: "claim_missing" },
    { name: "an empty jti", change: { jti: "" }, reason: "claim_invalid" },
    { name: "a numeric jti", change: { jti: 42 }, reason: "claim_invalid" },
    { name: "a jti over 256 characters", change: { jti: "j".repeat(257) }, reason: "claim_invalid" },
    { name: "a sub claim", change: { sub: "00u1" }, reason: "claim_forbidden" },
    { name: "an exp claim", change: { exp: 1_767_262_600 }, reason: "claim_forbidden" },
    { name: "no events", change: { events: undefined }, reason: "claim_missing" },
    { name: "events as an array", change: { events: [{}] }, reason: "events_invalid" },
    { name: "events as a string", change: { events: SESSION_REVOKED }, reason: "events_invalid" },
    { name: "empty events", change: { events: {} }, reason: "events_invalid" },
    { name: "an event that is null", change: { events: { [SESSION_REVOKED]: null } }, reason: "events_invalid" },
    { name: "an event that is an array", change: { events: { [SESSION_REVOKED]: [] } }, reason: "events_invalid" },
    { name: "two events", change: { events: { [SESSION_REVOKED]: {}, "https://x.example/e": {} } }, reason: "events_multiple" },
    { name: "no subject anywhere", change: { sub_id: undefined }, reason: "subject_missing" },
    { name: "a string subject", change: { sub_id: "00u1" }, reason: "subject_invalid" },
    { name: "a negative event_timestamp", change: { events: { [SESSION_REVOKED]: { event_timestamp: -5 } } }, reason: "event_time_invalid" },
    { name: "a string event_timestamp", change: { events: { [SESSION_REVOKED]: { event_timestamp: "1767262529" } } }, reason: "event_time_invalid" },
    { name: "a negative toe", change: { toe: -1, events: { [SESSION_REVOKED]: {} } }, reason: "event_time_invalid" },
  ];
  it.each(cases)("refuses $name", ({ change, reason }) => {
    expect(claimsReason(payload(change))).toBe(reason);
  });

  it("takes the subject from inside the event when there is no sub_id (Okta, legacy CAEP)", () => {
    const subject = { format: "iss_sub", iss: TRANSMITTER, sub: "00uOKTA" };
    const r = validateSetClaims(payload({ sub_id: undefined, events: { [SESSION_REVOKED]: { subject } } }), expected);
    expect(r.ok && r.value.subject).toEqual(subject);
  });

  it("prefers sub_id over the subject inside the event", () => {
    const inEvent = { format: "iss_sub", iss: TRANSMITTER, sub: "other" };
    const r = validateSetClaims(payload({ events: { [SESSION_REVOKED]: { subject: inEvent } } }), expected);
    expect(r.ok && r.value.subject).toEqual({ format: "iss_sub", iss: TRANSMITTER, sub: "00uEMPL0042" });
  });

  it("yields a validated SET or a known reason for any payload", () => {
    const reasons = new Set<string>(["ok", ...cases.map((c) => c.reason)]);
    const claim = fc.oneof(fc.jsonValue(), fc.constant(undefined));
    fc.assert(
      fc.property(fc.record({ iss: fc.oneof(fc.constant(TRANSMITTER), claim), aud: fc.oneof(fc.constant(US), claim), iat: claim, jti: claim, sub_id: claim, events: claim, sub: claim }), (p) => {
        const clean = Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined));
        expect(reasons).toContain(claimsReason(clean));
      }),
      { numRuns: 500 },
    );
  });
});

describe("eventTimeOf", () => {
  it("uses event_timestamp in seconds", () => {
    expect(eventTimeOf({ event_timestamp: 1_615_304_991 }, undefined, 1)).toEqual({ ok: true, value: 1_615_304_991 });
  });
  it("reads an event_timestamp above 1e11 as milliseconds (Okta)", () => {
    expect(eventTimeOf({ event_timestamp: 1_615_304_991_643 }, undefined, 1)).toEqual({ ok: true, value: 1_615_304_991.643 });
  });
  it("keeps exactly 1e11 as seconds and reads one more as milliseconds", () => {
    expect(eventTimeOf({ event_timestamp: MILLISECOND_TIMESTAMP_THRESHOLD }, undefined, 1)).toEqual({ ok: true, value: MILLISECOND_TIMESTAMP_THRESHOLD });
    expect(eventTimeOf({ event_timestamp: MILLISECOND_TIMESTAMP_THRESHOLD + 1000 }, undefined, 1)).toEqual({ ok: true, value: MILLISECOND_TIMESTAMP_THRESHOLD / 1000 + 1 });
  });
  it("falls back to toe, then to iat", () => {
    expect(eventTimeOf({}, 1_700_000_000, 1_800_000_000)).toEqual({ ok: true, value: 1_700_000_000 });
    expect(eventTimeOf({}, undefined, 1_800_000_000)).toEqual({ ok: true, value: 1_800_000_000 });
  });
  it("prefers event_timestamp over toe", () => {
    expect(eventTimeOf({ event_timestamp: 5 }, 6, 7)).toEqual({ ok: true, value: 5 });
  });
  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, "5", null, {}])("refuses event_timestamp %j", (value) => {
    expect(eventTimeOf({ event_timestamp: value }, undefined, 1)).toEqual({ ok: false, error: { reason: "event_time_invalid" } });
  });
});

describe("parseSubject", () => {
  const ok = (value: unknown) => ({ ok: true, value });
  it.each([
    { input: { format: "iss_sub", iss: TRANSMITTER, sub: "u1" }, value: { format: "iss_sub", iss: TRANSMITTER, sub: "u1" } },
    { input: { format: "email", email: "ana@corp.example" }, value: { format: "email", email: "ana@corp.example" } },
    { input: { format: "opaque", id: "stream-1" }, value: { format: "opaque", id: "stream-1" } },
    { input: { format: "phone_number", phone_number: "+1" }, value: { format: "other", name: "phone_number" } },
    { input: { format: "account", uri: "acct:ana@corp.example" }, value: { format: "other", name: "account" } },
  ])("reads $input.format", ({ input, value }) => {
    expect(parseSubject(input)).toEqual(ok(value));
  });

  it("reads a complex subject with format complex", () => {
    const user = { format: "iss_sub", iss: TRANSMITTER, sub: "u1" };
    expect(parseSubject({ format: "complex", user, tenant: { format: "opaque", id: "acme" } })).toEqual(
      ok({ format: "complex", members: { user, tenant: { format: "opaque", id: "acme" } } }),
    );
  });

  it("reads the drafts' complex subject without format", () => {
    const user = { format: "email", email: "ana@corp.example" };
    expect(parseSubject({ user, device: { format: "opaque", id: "d1" } })).toEqual(ok({ format: "complex", members: { user, device: { format: "opaque", id: "d1" } } }));
  });

  const subjectReason = (v: unknown) => {
    const r = parseSubject(v);
    return r.ok ? "ok" : r.error.reason;
  };
  it.each([
    { name: "a non-object", input: ["u1"] },
    { name: "no format and no complex member", input: { sub: "u1" } },
    { name: "an empty format", input: { format: "", id: "x" } },
    { name: "iss_sub without sub", input: { format: "iss_sub", iss: TRANSMITTER } },
    { name: "iss_sub with an empty sub", input: { format: "iss_sub", iss: TRANSMITTER, sub: "" } },
    { name: "iss_sub with a numeric sub", input: { format: "iss_sub", iss: TRANSMITTER, sub: 42 } },
    { name: "a sub with a control character", input: { format: "iss_sub", iss: TRANSMITTER, sub: "u1\n{\"type\":\"ema.forged\"}" } },
    { name: "a sub one character too long", input: { format: "iss_sub", iss: TRANSMITTER, sub: "u".repeat(MAX_IDENTIFIER_LENGTH + 1) } },
    { name: "an email without @", input: { format: "email", email: "ana" } },
    { name: "an opaque without id", input: { format: "opaque" } },
    { name: "a complex subject with no members", input: { format: "complex" } },
    { name: "a nested complex member", input: { format: "complex", user: { format: "complex", user: { format: "opaque", id: "x" } } } },
    { name: "a complex member that is a string", input: { format: "complex", user: "u1" } },
    { name: "a complex member that is malformed", input: { format: "complex", user: { format: "iss_sub", iss: TRANSMITTER } } },
  ])("refuses $name", ({ input }) => {
    expect(subjectReason(input)).toBe("subject_invalid");
  });

  it("accepts a sub of exactly the maximum length", () => {
    expect(subjectReason({ format: "iss_sub", iss: TRANSMITTER, sub: "u".repeat(MAX_IDENTIFIER_LENGTH) })).toBe("ok");
  });

  it("yields a subject or subject_invalid for any input", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(["ok", "subject_invalid"]).toContain(subjectReason(v));
      }),
      { numRuns: 500 },
    );
  });
});
