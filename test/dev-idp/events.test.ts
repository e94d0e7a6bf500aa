// The pure builders of what admin actions push, and the state change itself, without the Worker.
import { describe, expect, it } from "vitest";
import { applyAction } from "../../workers/dev-idp/admin";
import { findGroup, findUser } from "../../workers/dev-idp/directory";
import { buildOktaDelivery, buildSetClaims, SET_EVENTS, type AdminAction } from "../../workers/dev-idp/events";
import { validateSetClaims } from "../../workers/authorization-server/webhooks/set";
import { readOktaDelivery } from "./support/ema-edge-acceptance";

const alice = findUser("alice")!;
const NOW_MS = Date.UTC(2026, 2, 1, 10, 15, 29, 880);
const ids = { uuid: "u-1", eventId: "e-1", jti: "j-1", transaction: "t-1" };
const input = (action: AdminAction) => ({
  action,
  issuer: "http://localhost:8788",
  user: alice,
  ...(action === "remove-group" && { group: findGroup("engineering")! }),
  groupsAfter: action === "remove-group" ? [] : ["engineering"],
  nowMs: NOW_MS,
  ids,
});

describe.each(["deactivate", "remove-group", "clear-sessions", "reactivate"] as const)("%s", (action) => {
  it("builds the delivery from its inputs alone: published is the change's time with milliseconds", () => {
    const delivery = buildOktaDelivery(input(action));
    expect(delivery).toEqual(buildOktaDelivery(input(action)));
    expect(delivery).toMatchObject({ eventId: "e-1", eventTime: "2026-03-01T10:15:29.880Z" });
    expect((delivery.data as { events: Record<string, unknown>[] }).events[0]).toMatchObject({ uuid: "u-1", published: "2026-03-01T10:15:29.880Z", transaction: { id: "t-1" } });
  });

  it("builds an SSF 1.0 SET: sub_id, one event, no sub or exp, the transaction as txn", () => {
    const claims = buildSetClaims({ ...input(action), audience: "http://localhost:8787" });
    expect(claims).toMatchObject({ iss: "http://localhost:8788", aud: "http://localhost:8787", iat: Math.floor(NOW_MS / 1000), jti: "j-1", txn: "t-1" });
    expect(claims).not.toHaveProperty("sub");
    expect(claims).not.toHaveProperty("exp");
    expect(Object.keys(claims.events as object)).toEqual([SET_EVENTS[action]]);
    const read = validateSetClaims(claims, { issuer: "http://localhost:8788", audience: "http://localhost:8787" });
    expect(read.ok && read.value.eventTime).toBe(Math.floor(NOW_MS / 1000));
  });

  it("is read by ema-edge's Okta parser as an event about alice", () => {
    const read = readOktaDelivery(JSON.stringify(buildOktaDelivery(input(action))), "http://localhost:8788");
    const about = [...read.signals.map((s) => s.subject.sub), ...read.skipped.map((s) => s.reason)];
    expect(about).toEqual([action === "reactivate" ? "restore_event" : alice.sub]);
  });
});

describe("applyAction", () => {
  const fresh = { active: true, removedGroups: [], sessionsClearedAt: null };
  it("deactivate ends sessions as well", () => {
    expect(applyAction("deactivate", alice, fresh, undefined, 100)).toEqual({ ok: true, state: { active: false, removedGroups: [], sessionsClearedAt: 100 } });
  });
  it("reactivate keeps the session clear, so ID tokens from before stay void", () => {
    expect(applyAction("reactivate", alice, { ...fresh, active: false, sessionsClearedAt: 100 }, undefined, 200)).toEqual({ ok: true, state: { active: true, removedGroups: [], sessionsClearedAt: 100 } });
  });
  it("remove-group removes a group once", () => {
    const removed = applyAction("remove-group", alice, fresh, "engineering", 100);
    expect(removed).toMatchObject({ ok: true, state: { removedGroups: ["engineering"] } });
    expect(applyAction("remove-group", alice, removed.ok ? removed.state : fresh, "engineering", 101)).toEqual({ ok: false, reason: "admin_group_not_member" });
  });
});
