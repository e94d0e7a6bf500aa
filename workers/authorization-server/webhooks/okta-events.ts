// Turns an authenticated Okta Event Hook delivery into revocation signals (reference §2.4, §2.5,
// §8 "Okta Event Hook", §9). Pure: text in, signals and skipped events out; authentication, storage
// and HTTP are okta-hook.ts's. An envelope that is not Okta's is refused; an event we cannot or need
// not act on is skipped with a reason, since Okta does not retry a 4xx and one odd event must not
// cost the rest of the batch.
import type { RevocationChannels } from "../../lib/kv-records";
import { ok, refuse, type Result } from "../../lib/result";
import type { SubjectRef } from "../../lib/revocation-mirror";
import { parseStrictJson } from "../../lib/strict-json";

export type OktaHookConfig = NonNullable<RevocationChannels["okta_event_hook"]>;

/** The envelope's `eventType`: the per-event type is in `data.events[].eventType`. */
export const OKTA_ENVELOPE_TYPE = "com.okta.event_hook";
/** The envelope versions whose shape we know; another may move `data.events`, so it is refused. */
const KNOWN_ENVELOPE_VERSIONS: ReadonlySet<string> = new Set(["1.0"]);
/** Okta's ids are 20 characters; the bound only stops junk from reaching keys and audit lines. */
export const MAX_OKTA_ID_LENGTH = 255;

export type EnvelopeRefusal =
  | { reason: "body_not_json" }
  | { reason: "duplicate_json_member" }
  | { reason: "envelope_not_object" }
  | { reason: "envelope_type_invalid"; eventType: string | null }
  | { reason: "envelope_version_unknown"; version: string | null }
  | { reason: "hook_id_mismatch"; hookId: string | null }
  | { reason: "events_not_array" };

export interface OktaDelivery {
  /** The envelope's eventId, for the audit line; each event's `uuid` is its dedupe key. */
  deliveryId?: string;
  events: readonly unknown[];
}

/**
 * Parses a delivery's body: strict JSON (a repeated member is refused, so we and another parser
 * cannot read different events), Okta's envelope type and version, `data.events` an array, and,
 * when `hookIds` is set, a `source` naming one of those hooks.
 */
export function parseDelivery(text: string, hookIds: readonly string[] | undefined): Result<OktaDelivery, EnvelopeRefusal> {
  const parsed = parseStrictJson(text);
  if (!parsed.ok) return refuse({ reason: parsed.error === "duplicate_member" ? "duplicate_json_member" : "body_not_json" });
  const envelope = parsed.value;
  if (!isObject(envelope)) return refuse({ reason: "envelope_not_object" });
  if (envelope.eventType !== OKTA_ENVELOPE_TYPE) return refuse({ reason: "envelope_type_invalid", eventType: clip(envelope.eventType) });
  const version = envelope.eventTypeVersion;
  if (typeof version !== "string" || !KNOWN_ENVELOPE_VERSIONS.has(version)) return refuse({ reason: "envelope_version_unknown", version: clip(version) });
  if (hookIds !== undefined) {
    // The body is unsigned: a leaked secret of another hook must not deliver for this one (§2.3).
    const hookId = hookIdOf(envelope.source);
    if (hookId === null || !hookIds.includes(hookId)) return refuse({ reason: "hook_id_mismatch", hookId });
  }
  const events = isObject(envelope.data) ? envelope.data.events : undefined;
  if (!Array.isArray(events)) return refuse({ reason: "events_not_array" });
  const deliveryId = clip(envelope.eventId);
  return ok({ events, ...(deliveryId !== null && { deliveryId }) });
}

/** `https://{okta-domain}/api/v1/eventHooks/{hookId}` → hookId, else null. */
function hookIdOf(source: unknown): string | null {
  if (typeof source !== "string") return null;
  let path: string;
  try {
    path = new URL(source).pathname;
  } catch {
    return null;
  }
  return /^\/api\/v1\/eventHooks\/([A-Za-z0-9]{1,64})$/.exec(path)?.[1] ?? null;
}

/** What an event type does (§9). Anything not listed is skipped. */
type Action = "revoke" | "group_removal" | "app_removal" | "session_end" | "restore";

// A Map, not an object literal: a crafted eventType such as "constructor" must not find a value.
const EVENT_ACTIONS: ReadonlyMap<string, Action> = new Map<string, Action>([
  ["user.lifecycle.deactivate", "revoke"],
  ["user.lifecycle.suspend", "revoke"],
  ["user.lifecycle.delete.initiated", "revoke"],
  ["user.session.clear", "revoke"],
  ["user.authentication.universal_logout", "revoke"],
  ["user.authentication.universal_logout.scheduled", "revoke"],
  ["group.user_membership.remove", "group_removal"],
  // Names only the group (no User target), so it is skipped as no_user_subject; listed so the
  // audit line says so rather than "ignored type", and so group_removal: ignore covers it.
  ["group.lifecycle.delete", "group_removal"],
  ["application.user_membership.remove", "app_removal"],
  ["user.session.end", "session_end"],
  // Restoring access never clears a revocation: the person simply gets newer tokens (design.md).
  ["user.lifecycle.activate", "restore"],
  ["user.lifecycle.reactivate", "restore"],
  ["user.lifecycle.unsuspend", "restore"],
  ["user.account.unlock", "restore"],
  ["group.user_membership.add", "restore"],
  ["application.user_membership.add", "restore"],
]);

export type SkipReason =
  | "event_not_object"
  | "event_type_missing"
  | "event_type_ignored"
  | "restore_event"
  | "outcome_not_success"
  | "uuid_invalid"
  | "published_invalid"
  | "ignored_by_config"
  | "app_not_ours"
  | "no_user_subject"
  | "subject_invalid";

export interface SkippedEvent {
  uuid?: string;
  eventType?: string;
  reason: SkipReason;
}

/** A revocation without its channel (the handler adds it): whose, when, which event. */
export interface HookSignal {
  subject: SubjectRef;
  /** `published`, epoch seconds (rounded down: a token issued in that second is refused). */
  eventTime: number;
  eventId: string;
  eventType: string;
}

export interface ReadEvents {
  signals: HookSignal[];
  skipped: SkippedEvent[];
}

/**
 * Maps each LogEvent to signals for the issuer's subjects, or to one skip. The subject is the
 * `target` of type "User" (the `actor` for user.session.end), found by type, never by position.
 */
export function readEvents(events: readonly unknown[], issuer: { issuer: string; tenant?: string }, config: OktaHookConfig): ReadEvents {
  const result: ReadEvents = { signals: [], skipped: [] };
  for (const event of events) {
    const read = readEvent(event, issuer, config);
    if (read.ok) result.signals.push(...read.value);
    else result.skipped.push(read.error);
  }
  return result;
}

function readEvent(event: unknown, issuer: { issuer: string; tenant?: string }, config: OktaHookConfig): Result<HookSignal[], SkippedEvent> {
  if (!isObject(event)) return refuse({ reason: "event_not_object" });
  const eventType = typeof event.eventType === "string" && isOktaId(event.eventType) ? event.eventType : undefined;
  const uuid = typeof event.uuid === "string" && isOktaId(event.uuid) ? event.uuid : undefined;
  const skip = (reason: SkipReason) => refuse({ reason, ...(uuid !== undefined && { uuid }), ...(eventType !== undefined && { eventType }) });
  if (eventType === undefined) return skip("event_type_missing");
  const action = EVENT_ACTIONS.get(eventType);
  if (action === undefined) return skip("event_type_ignored");
  if (action === "restore") return skip("restore_event");
  // A FAILURE (an admin's attempt that did not go through) changed nothing at the IdP.
  if (!isObject(event.outcome) || event.outcome.result !== "SUCCESS") return skip("outcome_not_success");
  if (uuid === undefined) return skip("uuid_invalid");
  const eventTime = parsePublished(event.published);
  if (eventTime === undefined) return skip("published_invalid");

  if (action === "group_removal" && (config.group_removal ?? "revoke") === "ignore") return skip("ignored_by_config");
  if (action === "session_end" && (config.session_end ?? "ignore") === "ignore") return skip("ignored_by_config");
  if (action === "app_removal" && config.app_instance_ids !== undefined) {
    const apps = entitiesOfType(event.target, "AppInstance");
    // Unassignment from some other app says nothing about access to ours.
    if (!apps.some((app) => typeof app === "string" && config.app_instance_ids!.includes(app))) return skip("app_not_ours");
  }

  // user.session.end has a null target in real logs: the user who signed out is the actor.
  const candidates = action === "session_end" ? entitiesOfType([event.actor], "User") : entitiesOfType(event.target, "User");
  if (candidates.length === 0) return skip("no_user_subject");
  const valid = candidates.filter(isOktaId);
  if (valid.length !== candidates.length) return skip("subject_invalid");
  const subs = [...new Set(valid)];
  return ok(
    subs.map((sub) => ({
      subject: { iss: issuer.issuer, ...(issuer.tenant !== undefined && { tenant: issuer.tenant }), sub },
      eventTime,
      // One event naming several users gives one signal each; a shared id would mark all but the
      // first as duplicates of each other.
      eventId: subs.length === 1 ? uuid : `${uuid}:${sub}`,
      eventType,
    })),
  );
}

/** The `id` of every element of `list` (an array, or null) whose `type` is `type`. Non-strings kept as-is, for the caller to refuse. */
function entitiesOfType(list: unknown, type: string): unknown[] {
  if (!Array.isArray(list)) return [];
  return list.filter((e) => isObject(e) && e.type === type).map((e) => (e as Record<string, unknown>).id);
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/** Okta's `published` (ISO 8601, millisecond precision) → epoch seconds; Date.parse alone accepts too much. */
export function parsePublished(value: unknown): number | undefined {
  if (typeof value !== "string" || !ISO_8601.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) && ms >= 0 ? Math.floor(ms / 1000) : undefined;
}

/** A non-empty string of bounded length without control characters. */
function isOktaId(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_OKTA_ID_LENGTH && !/[\u0000-\u001f\u007f]/.test(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An untrusted value made safe for an audit line: strings only, clipped. */
function clip(value: unknown): string | null {
  return typeof value === "string" ? value.slice(0, 128) : null;
}
