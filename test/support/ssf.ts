// SET builders for the Shared Signals receiver tests: claims the way transmitters send them (SSF 1.0
// with `sub_id`, Okta with the subject inside the event and millisecond timestamps, complex
// subjects, stream control events), signed by a test IdP, and a helper that pushes one to the Worker.
import { exports } from "cloudflare:workers";
import type { TestIdp, TestKey } from "./test-idp";
import { ISSUER, nowSeconds } from "./world";

export const CAEP = "https://schemas.openid.net/secevent/caep/event-type/";
export const RISC = "https://schemas.openid.net/secevent/risc/event-type/";
export const SSF = "https://schemas.openid.net/secevent/ssf/event-type/";
export const SESSION_REVOKED = `${CAEP}session-revoked`;
export const ACCOUNT_ENABLED = `${RISC}account-enabled`;
export const VERIFICATION = `${SSF}verification`;
export const STREAM_UPDATED = `${SSF}stream-updated`;

export const ssfUrl = (issuerId: string) => `${ISSUER}/ssf/${issuerId}`;
export const issSub = (iss: string, sub: string) => ({ format: "iss_sub", iss, sub });

/** Applies overrides the way world.claims does: a value replaces, undefined deletes. */
function apply(claims: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  const out = { ...claims };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** An SSF 1.0 SET from `idp`: top-level `sub_id`, one event, no `sub`/`exp`. */
export function setClaims(
  idp: TestIdp,
  event: { type: string; body?: Record<string, unknown> },
  subId: unknown,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return apply(
    { iss: idp.issuer, aud: ISSUER, iat: nowSeconds(), jti: crypto.randomUUID(), sub_id: subId, events: { [event.type]: event.body ?? {} } },
    overrides,
  );
}

/** CAEP session-revoked for `sub` at `eventTimestamp` (seconds), subject as `sub_id` iss_sub. */
export function sessionRevoked(idp: TestIdp, sub: string, eventTimestamp: number, overrides: Record<string, unknown> = {}) {
  return setClaims(idp, { type: SESSION_REVOKED, body: { initiating_entity: "admin", event_timestamp: eventTimestamp } }, issSub(idp.issuer, sub), overrides);
}

/** As Okta's published examples: no `sub_id`, the subject inside the event, `event_timestamp` in ms. */
export function oktaSessionRevoked(idp: TestIdp, sub: string, eventTimestampMs: number) {
  return {
    iss: idp.issuer,
    aud: ISSUER,
    iat: nowSeconds(),
    jti: crypto.randomUUID(),
    events: { [SESSION_REVOKED]: { subject: issSub(idp.issuer, sub), event_timestamp: eventTimestampMs } },
  };
}

/** SSF 1.0 complex subject: a `user` plus whatever other members are given. */
export function complexSessionRevoked(idp: TestIdp, sub: string, eventTimestamp: number, members: Record<string, unknown> = {}) {
  const subject = { format: "complex", user: issSub(idp.issuer, sub), ...members };
  return setClaims(idp, { type: SESSION_REVOKED, body: { event_timestamp: eventTimestamp } }, subject);
}

export function verification(idp: TestIdp, streamId: string, state?: string) {
  return setClaims(idp, { type: VERIFICATION, body: state === undefined ? {} : { state } }, { format: "opaque", id: streamId });
}

export function streamUpdated(idp: TestIdp, streamId: string, status: unknown) {
  return setClaims(idp, { type: STREAM_UPDATED, body: { status, reason: "maintenance" } }, { format: "opaque", id: streamId });
}

/** Signs claims as a SET (typ secevent+jwt unless `header` says otherwise). */
export function signSet(idp: TestIdp, claims: Record<string, unknown>, options: { key?: TestKey; header?: Record<string, unknown> } = {}) {
  return idp.sign(claims, { ...options, header: { typ: "secevent+jwt", ...options.header } });
}

/** POSTs `body` to /ssf/{issuerId} as RFC 8935 push does; `headers` replace the defaults. */
export function pushSet(issuerId: string, body: BodyInit | null, headers: Record<string, string | undefined> = {}, method = "POST") {
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries({ "content-type": "application/secevent+jwt", accept: "application/json", ...headers })) {
    if (v !== undefined) merged[k] = v;
  }
  return exports.default.fetch(ssfUrl(issuerId), { method, headers: merged, ...(body !== null && { body }) });
}
