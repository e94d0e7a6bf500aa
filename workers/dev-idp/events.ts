// What an admin action tells ema-edge, in the two shapes real IdPs push: an Okta Event Hook
// delivery (a System Log LogEvent in its envelope; revocation notes §2.4) and the claims of a
// Shared Signals SET (RFC 8417 as SSF 1.0 profiles it: `sub_id`, one event, no `sub`/`exp`; §3.1).
// Pure: the clock and the random ids are parameters; signing and sending are pushes.ts's.
import { ADMIN_ACTOR, type DirectoryGroup, type DirectoryUser } from "./directory";

export type AdminAction = "deactivate" | "remove-group" | "clear-sessions" | "reactivate";

export const CAEP = "https://schemas.openid.net/secevent/caep/event-type/";
export const RISC = "https://schemas.openid.net/secevent/risc/event-type/";

/** Looks like an Okta event hook id (`who…`, 20 characters); ema-edge can pin it with hook_ids. */
export const DEV_HOOK_ID = "whoDEVIDPHOOK0000001";

interface OktaEventShape {
  eventType: string;
  displayMessage: string;
  /** The Okta API call an admin would have made, for debugContext. */
  requestUri: (user: DirectoryUser, group?: DirectoryGroup) => string;
}

const OKTA_EVENTS: Record<AdminAction, OktaEventShape> = {
  deactivate: { eventType: "user.lifecycle.deactivate", displayMessage: "Deactivate Okta user", requestUri: (u) => `/api/v1/users/${u.sub}/lifecycle/deactivate` },
  "remove-group": { eventType: "group.user_membership.remove", displayMessage: "Remove user from group membership", requestUri: (u, g) => `/api/v1/groups/${g?.id}/users/${u.sub}` },
  "clear-sessions": { eventType: "user.session.clear", displayMessage: "Clear user session", requestUri: (u) => `/api/v1/users/${u.sub}/sessions` },
  reactivate: { eventType: "user.lifecycle.reactivate", displayMessage: "Reactivate Okta user", requestUri: (u) => `/api/v1/users/${u.sub}/lifecycle/reactivate` },
};

/**
 * The SET event per action, chosen from what ema-edge's receiver maps (webhooks/ssf-events.ts):
 * account-disabled and session-revoked revoke; account-enabled is a restore and token-claims-change
 * is not acted on, so those are acknowledged without effect, as a real receiver may do.
 */
export const SET_EVENTS: Record<AdminAction, string> = {
  deactivate: `${RISC}account-disabled`,
  "clear-sessions": `${CAEP}session-revoked`,
  "remove-group": `${CAEP}token-claims-change`,
  reactivate: `${RISC}account-enabled`,
};

export interface EventInput {
  action: AdminAction;
  issuer: string;
  user: DirectoryUser;
  /** The group removed (remove-group only). */
  group?: DirectoryGroup;
  /** The user's groups after the change (token-claims-change carries them). */
  groupsAfter: readonly string[];
  /** When the change happened, epoch milliseconds. */
  nowMs: number;
  /** Random ids, drawn by the caller: the LogEvent's uuid, the delivery's eventId, the SET's jti, the shared transaction id. */
  ids: { uuid: string; eventId: string; jti: string; transaction: string };
}

/** The delivery body: envelope `com.okta.event_hook` 1.0 around one LogEvent. */
export function buildOktaDelivery(input: EventInput): Record<string, unknown> {
  const { action, issuer, user, group, nowMs, ids } = input;
  const shape = OKTA_EVENTS[action];
  const published = new Date(nowMs).toISOString();
  const target: Record<string, unknown>[] = [{ id: user.sub, type: "User", alternateId: user.email, displayName: user.displayName, detailEntry: null }];
  if (group !== undefined) target.push({ id: group.id, type: "UserGroup", alternateId: "unknown", displayName: group.name, detailEntry: null });
  const event = {
    uuid: ids.uuid,
    published,
    eventType: shape.eventType,
    version: "0",
    displayMessage: shape.displayMessage,
    severity: "INFO",
    legacyEventType: null,
    actor: { ...ADMIN_ACTOR, detailEntry: null },
    client: { ipAddress: "127.0.0.1", userAgent: { rawUserAgent: "ema-edge-dev-idp", os: "Unknown", browser: "UNKNOWN" }, zone: "null", device: "Unknown" },
    outcome: { result: "SUCCESS", reason: null },
    target,
    transaction: { type: "WEB", id: ids.transaction, detail: {} },
    debugContext: { debugData: { requestId: ids.transaction, requestUri: shape.requestUri(user, group), url: shape.requestUri(user, group) } },
    authenticationContext: { authenticationStep: 0, externalSessionId: "dev-idp-admin" },
  };
  return {
    eventType: "com.okta.event_hook",
    eventTypeVersion: "1.0",
    cloudEventsVersion: "0.1",
    source: `${issuer}/api/v1/eventHooks/${DEV_HOOK_ID}`,
    eventId: ids.eventId,
    eventTime: published,
    contentType: "application/json",
    data: { events: [event] },
  };
}

/** The SET claims: iss, aud, iat, jti, txn, sub_id (iss_sub), and one event. */
export function buildSetClaims(input: EventInput & { audience: string }): Record<string, unknown> {
  const { action, issuer, user, nowMs, ids, audience } = input;
  const now = Math.floor(nowMs / 1000);
  const type = SET_EVENTS[action];
  const event: Record<string, unknown> = type.startsWith(CAEP)
    ? { event_timestamp: now, initiating_entity: "admin", reason_admin: { en: `dev-idp admin: ${action}` } }
    : {};
  if (action === "remove-group") event.claims = { groups: [...input.groupsAfter] };
  return {
    iss: issuer,
    aud: audience,
    iat: now,
    jti: ids.jti,
    // One root cause, two channels: the same id as the Okta LogEvent's transaction.
    txn: ids.transaction,
    // RISC events have no event_timestamp; RFC 8417 `toe` says when it happened.
    ...(type.startsWith(RISC) && { toe: now }),
    sub_id: { format: "iss_sub", iss: issuer, sub: user.sub },
    events: { [type]: event },
  };
}
