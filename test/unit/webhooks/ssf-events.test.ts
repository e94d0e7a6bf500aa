import { describe, expect, it } from "vitest";
import { checkStreamSubject, classifyEvent, targetOf } from "../../../workers/authorization-server/webhooks/ssf-events";
import type { SetSubject } from "../../../workers/authorization-server/webhooks/set";

const CAEP = "https://schemas.openid.net/secevent/caep/event-type/";
const RISC = "https://schemas.openid.net/secevent/risc/event-type/";
const SSF = "https://schemas.openid.net/secevent/ssf/event-type/";
const IDP = { issuer: "https://idp.example.test" };
const user = (sub: string) => ({ format: "iss_sub" as const, iss: IDP.issuer, sub });

describe("classifyEvent", () => {
  it.each([
    `${CAEP}session-revoked`,
    `${RISC}account-disabled`,
    `${RISC}account-purged`,
    `${RISC}sessions-revoked`,
    `${RISC}credential-compromise`,
    "https://schemas.openid.net/secevent/oauth/event-type/tokens-revoked",
  ])("revokes on %s", (type) => {
    expect(classifyEvent(type, {})).toEqual({ ok: true, value: { kind: "revoke" } });
  });

  it.each([`${RISC}account-enabled`, `${RISC}opt-in`, `${RISC}opt-out-cancelled`, `${RISC}recovery-activated`])("never acts on the restore event %s", (type) => {
    expect(classifyEvent(type, {})).toEqual({ ok: true, value: { kind: "ignore", why: "restore_event" } });
  });

  it.each([`${CAEP}token-claims-change`, `${CAEP}session-established`, "https://example.test/event", `${CAEP}session-revoked/`])("acknowledges and ignores %s", (type) => {
    expect(classifyEvent(type, {})).toEqual({ ok: true, value: { kind: "ignore", why: "unknown_event" } });
  });

  it.each(["revoke", "delete"])("revokes on credential-change %s", (change_type) => {
    expect(classifyEvent(`${CAEP}credential-change`, { credential_type: "password", change_type })).toEqual({ ok: true, value: { kind: "revoke" } });
  });
  it.each(["create", "update"])("does not revoke on credential-change %s", (change_type) => {
    expect(classifyEvent(`${CAEP}credential-change`, { change_type })).toEqual({ ok: true, value: { kind: "ignore", why: "credential_not_revoked" } });
  });
  it.each([undefined, "REVOKE", "rotate", 1])("refuses credential-change with change_type %j", (change_type) => {
    expect(classifyEvent(`${CAEP}credential-change`, { change_type })).toEqual({ ok: false, error: { reason: "event_invalid", detail: "change_type" } });
  });

  it.each([`${SSF}verification`, "https://schemas.openid.net/secevent/sse/event-type/verification", `${RISC}verification`])("recognises verification %s", (type) => {
    expect(classifyEvent(type, { state: "abc" })).toEqual({ ok: true, value: { kind: "verification" } });
    expect(classifyEvent(type, {})).toEqual({ ok: true, value: { kind: "verification" } });
  });
  it("refuses a verification state that is not a string", () => {
    expect(classifyEvent(`${SSF}verification`, { state: 7 })).toEqual({ ok: false, error: { reason: "event_invalid", detail: "state" } });
  });

  it.each(["enabled", "paused", "disabled"])("reads stream-updated status %s", (status) => {
    expect(classifyEvent(`${SSF}stream-updated`, { status })).toEqual({ ok: true, value: { kind: "stream_updated", status } });
  });
  it.each([undefined, "Enabled", "deleted", 1])("refuses stream-updated status %j", (status) => {
    expect(classifyEvent(`${SSF}stream-updated`, { status })).toEqual({ ok: false, error: { reason: "event_invalid", detail: "status" } });
  });
});

describe("checkStreamSubject", () => {
  const opaque = (id: string): SetSubject => ({ format: "opaque", id });
  it("accepts the stream's own opaque id", () => {
    expect(checkStreamSubject(opaque("stream-1"), "stream-1").ok).toBe(true);
  });
  it.each([
    { name: "another stream's id", subject: opaque("stream-2") },
    { name: "a person", subject: user("u1") as SetSubject },
    { name: "a complex subject", subject: { format: "complex", members: { user: opaque("stream-1") } } as SetSubject },
  ])("refuses $name", ({ subject }) => {
    expect(checkStreamSubject(subject, "stream-1")).toEqual({ ok: false, error: { reason: "stream_subject_mismatch" } });
  });
  it("accepts any opaque id, and only an opaque one, when no stream id is configured", () => {
    expect(checkStreamSubject(opaque("whatever"), undefined).ok).toBe(true);
    expect(checkStreamSubject(user("u1"), undefined).ok).toBe(false);
  });
});

describe("targetOf", () => {
  it("revokes an iss_sub of the stream's IdP", () => {
    expect(targetOf(user("u1"), IDP)).toEqual({ ok: true, value: { kind: "subject", subject: { iss: IDP.issuer, sub: "u1" } } });
  });
  it("keys the subject by the IdP's pinned tenant", () => {
    expect(targetOf(user("u1"), { ...IDP, tenant: "acme" })).toEqual({ ok: true, value: { kind: "subject", subject: { iss: IDP.issuer, tenant: "acme", sub: "u1" } } });
  });
  it("refuses an iss_sub of another issuer with access_denied's reason", () => {
    expect(targetOf({ format: "iss_sub", iss: "https://other.example", sub: "u1" }, IDP)).toEqual({ ok: false, error: { reason: "subject_foreign" } });
  });
  it("looks an email up", () => {
    expect(targetOf({ format: "email", email: "ana@corp.example" }, IDP)).toEqual({ ok: true, value: { kind: "email", email: "ana@corp.example" } });
  });
  it("never revokes an opaque or an unsupported subject", () => {
    expect(targetOf({ format: "opaque", id: "x" }, IDP)).toEqual({ ok: true, value: { kind: "ignore", why: "subject_not_a_user" } });
    expect(targetOf({ format: "other", name: "phone_number" }, IDP)).toEqual({ ok: true, value: { kind: "ignore", why: "subject_format_unsupported" } });
  });

  const complex = (members: Record<string, SetSubject>): SetSubject => ({ format: "complex", members: members as never });
  it("revokes the user of a complex subject, whatever session or device it narrows to", () => {
    const subject = complex({ user: user("u1"), session: { format: "opaque", id: "s1" }, device: { format: "opaque", id: "d1" } });
    expect(targetOf(subject, IDP)).toEqual({ ok: true, value: { kind: "subject", subject: { iss: IDP.issuer, sub: "u1" } } });
  });
  it("ignores a complex subject without a user", () => {
    expect(targetOf(complex({ tenant: { format: "opaque", id: "acme" } }), IDP)).toEqual({ ok: true, value: { kind: "ignore", why: "subject_not_a_user" } });
  });
  it("refuses a complex subject of another tenant than the pinned one", () => {
    const subject = complex({ user: user("u1"), tenant: { format: "opaque", id: "globex" } });
    expect(targetOf(subject, { ...IDP, tenant: "acme" })).toEqual({ ok: false, error: { reason: "subject_foreign" } });
    expect(targetOf(complex({ user: user("u1"), tenant: { format: "opaque", id: "acme" } }), { ...IDP, tenant: "acme" }).ok).toBe(true);
  });
  it("discards an event whose critical member it cannot process", () => {
    const subject = complex({ user: user("u1"), group: { format: "opaque", id: "g1" } });
    expect(targetOf(subject, IDP, ["group"])).toEqual({ ok: true, value: { kind: "ignore", why: "critical_member_unprocessed" } });
  });
  it("acts when the critical members are ones it processes, or the unprocessed member is not critical", () => {
    const subject = complex({ user: user("u1"), group: { format: "opaque", id: "g1" } });
    expect(targetOf(subject, IDP, ["user", "tenant"]).ok && targetOf(subject, IDP, ["user"])).toMatchObject({ ok: true, value: { kind: "subject" } });
    expect(targetOf(subject, IDP)).toMatchObject({ ok: true, value: { kind: "subject" } });
  });
});
