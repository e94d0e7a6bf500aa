// What a SET's event means for us (revocation notes §9): revoke the subject, acknowledge a stream
// control event, or nothing. Pure. "Restore" events (account-enabled, …) are nothing: revoked_before
// never goes down, a reactivated person simply gets newer tokens (design.md). Events that would need
// policy re-evaluation (token-claims-change, assurance-level-change, risk-level-change) are not acted on.
import type { SubjectRef } from "../../lib/revocation-mirror";
import { ok, refuse, type Result } from "../../lib/result";
import type { SetRefusal } from "./set-errors";
import type { SetSubject, SimpleSubject } from "./set";

const CAEP = "https://schemas.openid.net/secevent/caep/event-type/";
const RISC = "https://schemas.openid.net/secevent/risc/event-type/";
const OAUTH = "https://schemas.openid.net/secevent/oauth/event-type/";
const SSF = "https://schemas.openid.net/secevent/ssf/event-type/";
/** The pre-SSF name of the framework; some transmitters still send its control events. */
const SSE = "https://schemas.openid.net/secevent/sse/event-type/";

/** Events after which no token issued before them may be used (§9 "revoke_before = event time"). */
const REVOKING: ReadonlySet<string> = new Set([
  `${CAEP}session-revoked`,
  `${RISC}account-disabled`,
  `${RISC}account-purged`,
  `${RISC}sessions-revoked`, // deprecated alias of CAEP session-revoked
  `${RISC}credential-compromise`,
  `${OAUTH}tokens-revoked`,
]);
/** Events that give access back: named so that nobody "fixes" them into un-revoking. */
const RESTORING: ReadonlySet<string> = new Set([`${RISC}account-enabled`, `${RISC}opt-in`, `${RISC}opt-out-cancelled`, `${RISC}recovery-activated`]);
const CREDENTIAL_CHANGE = `${CAEP}credential-change`;
/** A credential revoked or deleted may have been the one that signed the person in. */
const REVOKING_CHANGE_TYPES: ReadonlySet<unknown> = new Set(["revoke", "delete"]);
const CHANGE_TYPES: ReadonlySet<unknown> = new Set(["create", "revoke", "update", "delete"]);
const VERIFICATION: ReadonlySet<string> = new Set([`${SSF}verification`, `${SSE}verification`, `${RISC}verification`]);
const STREAM_UPDATED: ReadonlySet<string> = new Set([`${SSF}stream-updated`, `${SSE}stream-updated`]);
const STREAM_STATUSES = ["enabled", "paused", "disabled"] as const;

export type StreamStatus = (typeof STREAM_STATUSES)[number];

export type IgnoreWhy =
  | "restore_event"
  | "unknown_event"
  | "credential_not_revoked"
  | "subject_format_unsupported"
  | "subject_not_a_user"
  | "critical_member_unprocessed"
  | "subject_unknown";

export type EventAction =
  | { kind: "revoke" }
  | { kind: "verification" }
  | { kind: "stream_updated"; status: StreamStatus }
  | { kind: "ignore"; why: IgnoreWhy };

/** Maps an event URI and its payload to what we do; refuses a known event whose payload is wrong. */
export function classifyEvent(eventType: string, event: Readonly<Record<string, unknown>>): Result<EventAction, SetRefusal> {
  if (REVOKING.has(eventType)) return ok({ kind: "revoke" });
  if (RESTORING.has(eventType)) return ok({ kind: "ignore", why: "restore_event" });
  if (eventType === CREDENTIAL_CHANGE) {
    if (!CHANGE_TYPES.has(event.change_type)) return refuse({ reason: "event_invalid", detail: "change_type" });
    return ok(REVOKING_CHANGE_TYPES.has(event.change_type) ? { kind: "revoke" } : { kind: "ignore", why: "credential_not_revoked" });
  }
  if (VERIFICATION.has(eventType)) {
    // We ask for no verification, so there is no state to match; an echoed one must still be a string.
    if (event.state !== undefined && typeof event.state !== "string") return refuse({ reason: "event_invalid", detail: "state" });
    return ok({ kind: "verification" });
  }
  if (STREAM_UPDATED.has(eventType)) {
    const status = STREAM_STATUSES.find((s) => s === event.status);
    return status === undefined ? refuse({ reason: "event_invalid", detail: "status" }) : ok({ kind: "stream_updated", status });
  }
  // Receivers must tolerate events they did not ask for without reporting an error (SSF 1.0).
  return ok({ kind: "ignore", why: "unknown_event" });
}

/**
 * A stream control event names the stream itself: `{format: "opaque", id: <stream_id>}` (SSF 1.0).
 * Without a configured stream id any opaque subject passes: such events change nothing here.
 */
export function checkStreamSubject(subject: SetSubject, streamId: string | undefined): Result<true, SetRefusal> {
  const matches = subject.format === "opaque" && (streamId === undefined || subject.id === streamId);
  return matches ? ok(true) : refuse({ reason: "stream_subject_mismatch" });
}

/** Whom a revoking event is about: a subject to revoke, an email to look up, or nobody we can act on. */
export type RevocationTarget = { kind: "subject"; subject: SubjectRef } | { kind: "email"; email: string } | { kind: "ignore"; why: IgnoreWhy };

/** The trusted IdP the stream speaks for: its `iss`, and its tenant when the policy pins one. */
export interface StreamIdp {
  issuer: string;
  tenant?: string;
}

/**
 * Members of a complex subject we can act on. `session`, `device` and `application` narrow the
 * event to part of the person's access; ID-JAGs carry no session or device, so we revoke the whole
 * person, which covers the part. `tenant` is checked against the pinned tenant.
 */
const PROCESSED_MEMBERS: ReadonlySet<string> = new Set(["user", "tenant", "session", "device", "application"]);

/**
 * Resolves a revoking event's subject. An `iss_sub` of another issuer is `access_denied`: this
 * stream's transmitter must not revoke people of an IdP it does not speak for. `criticalMembers`
 * are the transmitter's `critical_subject_members`: one we cannot process discards the event
 * (SSF 1.0 "Receiver Subject Processing").
 */
export function targetOf(subject: SetSubject, idp: StreamIdp, criticalMembers: readonly string[] = []): Result<RevocationTarget, SetRefusal> {
  if (subject.format !== "complex") return simpleTarget(subject, idp);
  const { members } = subject;
  if (Object.keys(members).some((name) => criticalMembers.includes(name) && !PROCESSED_MEMBERS.has(name))) {
    return ok({ kind: "ignore", why: "critical_member_unprocessed" });
  }
  const tenant = members.tenant;
  if (idp.tenant !== undefined && tenant?.format === "opaque" && tenant.id !== idp.tenant) return refuse({ reason: "subject_foreign" });
  // Without a user member the event is about a tenant, group or device as a whole: not one person.
  return members.user === undefined ? ok({ kind: "ignore", why: "subject_not_a_user" }) : simpleTarget(members.user, idp);
}

function simpleTarget(subject: SimpleSubject, idp: StreamIdp): Result<RevocationTarget, SetRefusal> {
  switch (subject.format) {
    case "iss_sub":
      if (subject.iss !== idp.issuer) return refuse({ reason: "subject_foreign" });
      return ok({ kind: "subject", subject: { iss: idp.issuer, sub: subject.sub, ...(idp.tenant !== undefined && { tenant: idp.tenant }) } });
    case "email":
      return ok({ kind: "email", email: subject.email });
    case "opaque":
      // CAEP Interop: opaque subjects are for stream verification, never a person.
      return ok({ kind: "ignore", why: "subject_not_a_user" });
    case "other":
      return ok({ kind: "ignore", why: "subject_format_unsupported" });
  }
}
