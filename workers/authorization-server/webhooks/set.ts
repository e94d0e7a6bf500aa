// Validates a Security Event Token as SSF 1.0 profiles RFC 8417: the JOSE header before the
// signature check, the claims after it, and extracts the one event, its subject and its time.
// Pure: keys and signature are webhooks/ssf.ts's, what an event means is webhooks/ssf-events.ts's.
// JWE SETs and the legacy Google RISC `typ`-less form are not accepted.
import type { SignatureAlgorithm } from "../../lib/kv-records";
import { ok, refuse, type Result } from "../../lib/result";
import { MAX_JTI_LENGTH } from "../assertion/claims";
import { SIGNATURE_ALGORITHMS } from "../assertion/header";
import type { SetRefusal } from "./set-errors";

/** A subject identifier member longer than this is not an identifier we could ever have issued for. */
export const MAX_IDENTIFIER_LENGTH = 1024;
/** 1e11 seconds is the year 5138 and 1e11 ms is 1973: above it, a time can only be milliseconds (Okta). */
export const MILLISECOND_TIMESTAMP_THRESHOLD = 1e11;

/** SSF 1.0 "Explicit Typing of SETs" requires `secevent+jwt`; RFC 7515 §4.1.9 allows the `application/` prefix. */
const SET_TYPES = new Set(["secevent+jwt", "application/secevent+jwt"]);
/** The member names SSF 1.0 defines for a complex subject; its drafts sent them without `format`. */
export const COMPLEX_MEMBERS: ReadonlySet<string> = new Set(["user", "device", "session", "application", "tenant", "org_unit", "group"]);

export interface SetHeader {
  alg: SignatureAlgorithm;
  kid: string;
}

/** A subject identifier (RFC 9493); formats we never act on keep only their name. */
export type SimpleSubject =
  | { format: "iss_sub"; iss: string; sub: string }
  | { format: "email"; email: string }
  | { format: "opaque"; id: string }
  | { format: "other"; name: string };

export type SetSubject = SimpleSubject | { format: "complex"; members: Readonly<Record<string, SimpleSubject>> };

export interface ValidatedSet {
  jti: string;
  iat: number;
  eventType: string;
  event: Readonly<Record<string, unknown>>;
  subject: SetSubject;
  /** When the event happened, epoch seconds (not yet clamped to receipt). */
  eventTime: number;
}

export interface SetExpectations {
  /** The transmitter's issuer: the SET `iss` must be exactly this. */
  issuer: string;
  /** Our audience: the SET `aud` (string or array) must contain it. */
  audience: string;
}

/**
 * Checks `typ`, `alg` against the transmitter's allow-list and `kid`, before any key is fetched.
 * `none` and HMAC never pass, whatever the list says: the JWKS holds public keys only.
 */
export function checkSetHeader(header: Record<string, unknown>, algorithms: readonly SignatureAlgorithm[]): Result<SetHeader, SetRefusal> {
  const { typ, alg, kid, crit } = header;
  if (typeof typ !== "string" || !SET_TYPES.has(typ.toLowerCase())) return refuse({ reason: "typ_invalid" });
  // We implement no JOSE extension, so any `crit` is one we cannot honour (RFC 7515 §4.1.11).
  if (crit !== undefined) return refuse({ reason: "crit_unsupported" });
  if (typeof alg !== "string" || !SIGNATURE_ALGORITHMS.has(alg) || !algorithms.includes(alg as SignatureAlgorithm)) {
    return refuse({ reason: "alg_not_allowed", alg: typeof alg === "string" ? alg.slice(0, 16) : null });
  }
  // Keys are chosen by kid from the transmitter's jwks_uri; without one we would have to guess.
  if (typeof kid !== "string" || kid.length === 0 || kid.length > 256) return refuse({ reason: "kid_missing" });
  return ok({ alg: alg as SignatureAlgorithm, kid });
}

/**
 * Validates the claims of a SET whose signature has been verified: `iss`, `aud`, `iat`, `jti`,
 * no `sub`/`exp` (SSF 1.0 SET profile), exactly one event, a subject, a valid event time.
 */
export function validateSetClaims(payload: Record<string, unknown>, expected: SetExpectations): Result<ValidatedSet, SetRefusal> {
  const { iss, aud, iat, jti, events } = payload;
  if (iss !== expected.issuer) return refuse({ reason: "iss_mismatch" });
  if (!audienceContains(aud, expected.audience)) return refuse({ reason: "aud_mismatch" });
  if (iat === undefined) return refuse({ reason: "claim_missing", claim: "iat" });
  if (!isNumericDate(iat)) return refuse({ reason: "claim_invalid", claim: "iat" });
  if (jti === undefined) return refuse({ reason: "claim_missing", claim: "jti" });
  if (typeof jti !== "string" || jti.length === 0 || jti.length > MAX_JTI_LENGTH) return refuse({ reason: "claim_invalid", claim: "jti" });
  // The subject lives in sub_id, and SETs never expire (they are facts, retried for days).
  if (payload.sub !== undefined) return refuse({ reason: "claim_forbidden", claim: "sub" });
  if (payload.exp !== undefined) return refuse({ reason: "claim_forbidden", claim: "exp" });
  if (events === undefined) return refuse({ reason: "claim_missing", claim: "events" });
  if (!isObject(events)) return refuse({ reason: "events_invalid", detail: "not_object" });
  const entries = Object.entries(events);
  if (entries.length !== 1) {
    return entries.length === 0 ? refuse({ reason: "events_invalid", detail: "empty" }) : refuse({ reason: "events_multiple", count: entries.length });
  }
  const [eventType, event] = entries[0]!;
  if (!isObject(event)) return refuse({ reason: "events_invalid", detail: "event_not_object" });

  // SSF 1.0: sub_id carries the subject; legacy CAEP/RISC events (Okta) put it inside the event.
  const rawSubject = payload.sub_id !== undefined ? payload.sub_id : event.subject;
  if (rawSubject === undefined) return refuse({ reason: "subject_missing" });
  const subject = parseSubject(rawSubject);
  if (!subject.ok) return subject;
  const eventTime = eventTimeOf(event, payload.toe, iat);
  if (!eventTime.ok) return eventTime;
  return ok({ jti, iat, eventType, event, subject: subject.value, eventTime: eventTime.value });
}

/** The event's time: CAEP `event_timestamp` (milliseconds normalised), else RFC 8417 `toe`, else `iat`. */
export function eventTimeOf(event: Record<string, unknown>, toe: unknown, iat: number): Result<number, SetRefusal> {
  const inEvent = event.event_timestamp !== undefined;
  const stated = inEvent ? event.event_timestamp : toe;
  if (stated === undefined) return ok(iat);
  if (!isNumericDate(stated)) return refuse({ reason: "event_time_invalid" });
  return ok(inEvent && stated > MILLISECOND_TIMESTAMP_THRESHOLD ? stated / 1000 : stated);
}

/** Parses a subject identifier (RFC 9493) or an SSF 1.0 complex subject. */
export function parseSubject(value: unknown): Result<SetSubject, SetRefusal> {
  if (!isObject(value)) return refuse({ reason: "subject_invalid", detail: "not_object" });
  const { format } = value;
  const legacyComplex = format === undefined && Object.keys(value).some((name) => COMPLEX_MEMBERS.has(name));
  if (format !== "complex" && !legacyComplex) return parseSimpleSubject(value);
  const members: Record<string, SimpleSubject> = {};
  for (const [name, member] of Object.entries(value)) {
    if (name === "format") continue;
    // RFC 9493 §3.2.6: members are simple identifiers, never nested complex ones.
    if (!isObject(member) || member.format === "complex") return refuse({ reason: "subject_invalid", detail: "complex_member" });
    const parsed = parseSimpleSubject(member);
    if (!parsed.ok) return parsed;
    members[name] = parsed.value;
  }
  if (Object.keys(members).length === 0) return refuse({ reason: "subject_invalid", detail: "complex_empty" });
  return ok({ format: "complex", members });
}

function parseSimpleSubject(value: Record<string, unknown>): Result<SimpleSubject, SetRefusal> {
  const { format } = value;
  if (typeof format !== "string" || format.length === 0 || format.length > 64) return refuse({ reason: "subject_invalid", detail: "format" });
  switch (format) {
    case "iss_sub":
      return isIdentifier(value.iss) && isIdentifier(value.sub)
        ? ok({ format, iss: value.iss, sub: value.sub })
        : refuse({ reason: "subject_invalid", detail: "iss_sub" });
    case "email":
      return isIdentifier(value.email) && value.email.includes("@") ? ok({ format, email: value.email }) : refuse({ reason: "subject_invalid", detail: "email" });
    case "opaque":
      return isIdentifier(value.id) ? ok({ format, id: value.id }) : refuse({ reason: "subject_invalid", detail: "opaque" });
    default:
      // Receivers must ignore what they do not understand (SSF 1.0): not an error, just no action.
      return ok({ format: "other", name: format });
  }
}

function audienceContains(aud: unknown, audience: string): boolean {
  if (typeof aud === "string") return aud === audience;
  return Array.isArray(aud) && aud.includes(audience);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isNumericDate = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;
// Control characters in an identifier are how log lines and lookups get forged.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const isIdentifier = (v: unknown): v is string => typeof v === "string" && v.length > 0 && v.length <= MAX_IDENTIFIER_LENGTH && !CONTROL.test(v);
