// The admin actions: each stores the new state, then pushes an Okta Event Hook delivery and an SSF
// SET to ema-edge (here, a recorder sink standing in for it), and answers with what each push got.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { decodeProtectedHeader } from "jose";
import type { Env } from "../../workers/dev-idp/env";
import { matchesSharedSecret } from "../../workers/lib/shared-secret";
import { call, exchange, exchangeParams, idpKeys, ISSUER, login, nextSecondAfter, openSink, type Sink } from "./support/dev-idp";
import { readOktaDelivery, readSet } from "./support/ema-edge-acceptance";

const kv = (env as unknown as { IDP_STATE: KVNamespace }).IDP_STATE;
const CAEP = "https://schemas.openid.net/secevent/caep/event-type/";
const RISC = "https://schemas.openid.net/secevent/risc/event-type/";
const SUBS = { alice: "00ualiceDEVIDP000001", bob: "00ubobDEVIDP00000002", carol: "00ucarolDEVIDP000003" } as const;

afterEach(async () => {
  await call("/dev/reset", { method: "POST" });
});

const sinkEnv = (sink: Sink, extra: Partial<Env> = {}): Partial<Env> => ({ EMA_EDGE_ISSUER: sink.base, ...extra });

function act(name: string, action: string, sink: Sink, body?: { group: string }, json = false, extra: Partial<Env> = {}) {
  const init: RequestInit =
    body === undefined
      ? { method: "POST" }
      : json
        ? { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }
        : { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(body).toString() };
  return call(`/dev/users/${name}/${action}`, init, sinkEnv(sink, extra));
}

interface AdminAnswer {
  action: string;
  delivered: boolean;
  user: { name: string; active: boolean; groups: string[]; removed_groups: string[]; sessions_cleared_at: number | null };
  pushes: { channel: string; url: string; status: number | null; ok: boolean; ms: number; error?: string }[];
}

/** The two recorded pushes, checked for what every delivery must carry. */
async function recorded(sink: Sink) {
  const requests = await sink.requests();
  expect(requests.map((r) => r.path).sort()).toEqual(["/hooks/okta/dev-idp", "/ssf/dev-idp"]);
  const hook = requests.find((r) => r.path.startsWith("/hooks/okta/"))!;
  const ssf = requests.find((r) => r.path.startsWith("/ssf/"))!;
  expect(hook.method).toBe("POST");
  expect(hook.headers.authorization).toBe("dev-okta-hook-secret");
  // The hash config/policy.example.yaml holds for the dev IdP's hook, checked as ema-edge checks it.
  expect(await matchesSharedSecret(hook.headers.authorization!, ["qv6xlhiZF9Wqrp6J4pVKQkWmojj2PMHycIwLyX9c9Yk"])).toBe(true);
  expect(hook.headers["content-type"]).toBe("application/json");
  expect(ssf.method).toBe("POST");
  expect(ssf.headers["content-type"]).toBe("application/secevent+jwt");
  expect(ssf.headers.authorization).toBeUndefined();
  return { hook, hookBody: JSON.parse(hook.body), set: ssf.body };
}

describe.each([
  { action: "deactivate", user: "bob" as const, okta: "user.lifecycle.deactivate", set: `${RISC}account-disabled`, revokes: true },
  { action: "clear-sessions", user: "alice" as const, okta: "user.session.clear", set: `${CAEP}session-revoked`, revokes: true },
  { action: "remove-group", user: "alice" as const, okta: "group.user_membership.remove", set: `${CAEP}token-claims-change`, revokes: false },
  { action: "reactivate", user: "carol" as const, okta: "user.lifecycle.reactivate", set: `${RISC}account-enabled`, revokes: false },
])("$action", ({ action, user, okta, set: setType, revokes }) => {
  const body = action === "remove-group" ? { group: "engineering" } : undefined;

  it("pushes an Okta delivery with the secret and a well-formed envelope", async () => {
    const sink = await openSink();
    const before = Date.now();
    const res = await act(user, action, sink, body);
    expect(res.status).toBe(200);
    const { hookBody } = await recorded(sink);
    expect(hookBody).toMatchObject({
      eventType: "com.okta.event_hook",
      eventTypeVersion: "1.0",
      cloudEventsVersion: "0.1",
      source: expect.stringMatching(/\/api\/v1\/eventHooks\/who[A-Za-z0-9]+$/),
      eventId: expect.any(String),
      contentType: "application/json",
    });
    const [event] = hookBody.data.events;
    expect(hookBody.data.events).toHaveLength(1);
    expect(event).toMatchObject({ eventType: okta, uuid: expect.any(String), outcome: { result: "SUCCESS" }, actor: { type: "User" }, version: "0" });
    expect(event.published).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(event.published)).toBeGreaterThanOrEqual(before);
    expect(event.target[0]).toEqual({ id: SUBS[user], type: "User", alternateId: `${user}@example.com`, displayName: expect.any(String), detailEntry: null });
    if (action === "remove-group") expect(event.target[1]).toMatchObject({ type: "UserGroup", displayName: "engineering", id: expect.stringMatching(/^00g/) });
    else expect(event.target).toHaveLength(1);
  });

  it(`is ${revokes ? "" : "not "}a revocation for ema-edge's Okta hook parser`, async () => {
    const sink = await openSink();
    await act(user, action, sink, body);
    const { hook } = await recorded(sink);
    const read = readOktaDelivery(hook.body, ISSUER);
    if (action === "reactivate") {
      expect(read).toEqual({ signals: [], skipped: [{ reason: "restore_event", uuid: expect.any(String), eventType: okta }] });
    } else {
      expect(read.skipped).toEqual([]);
      expect(read.signals).toEqual([{ subject: { iss: ISSUER, sub: SUBS[user] }, eventTime: expect.any(Number), eventId: expect.any(String), eventType: okta }]);
    }
  });

  it("pushes a SET signed with the IdP key that ema-edge's SSF parsers accept", async () => {
    const sink = await openSink();
    const res = await act(user, action, sink, body);
    const answer = await res.json<AdminAnswer>();
    const { hookBody, set } = await recorded(sink);
    expect(decodeProtectedHeader(set)).toMatchObject({ typ: "secevent+jwt", alg: "RS256" });
    const read = await readSet(set, await idpKeys(), { issuer: ISSUER, audience: sink.base });
    expect(read.set.eventType).toBe(setType);
    expect(read.set.subject).toEqual({ format: "iss_sub", iss: ISSUER, sub: SUBS[user] });
    // Both channels say the same moment, to the second.
    expect(read.set.eventTime).toBe(Math.floor(Date.parse(hookBody.data.events[0].published) / 1000));
    if (revokes) expect(read.target).toEqual({ kind: "subject", subject: { iss: ISSUER, sub: SUBS[user] } });
    else expect(read.action.kind).toBe("ignore");
    if (action === "remove-group") expect(read.set.event.claims).toEqual({ groups: [] });
    expect(answer.pushes.map((p) => [p.channel, p.url, p.status, p.ok])).toEqual([
      ["okta_event_hook", `${sink.base}/hooks/okta/dev-idp`, 204, true],
      ["ssf", `${sink.base}/ssf/dev-idp`, 202, true],
    ]);
    for (const p of answer.pushes) expect(p.ms).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(answer)).not.toContain("dev-okta-hook-secret");
  });
});

describe("state changes", () => {
  it("deactivate: the user can neither log in nor exchange an earlier ID token; reactivate: a new login works", async () => {
    const sink = await openSink();
    const idToken = await login("bob");
    const res = await act("bob", "deactivate", sink);
    const answer = await res.json<AdminAnswer>();
    expect(answer.user).toMatchObject({ name: "bob", active: false });
    expect((await call("/dev/login", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "username=bob" })).status).toBe(403);
    expect((await exchange(exchangeParams(idToken))).status).toBe(400);

    expect((await (await act("bob", "reactivate", sink)).json<AdminAnswer>()).user.active).toBe(true);
    // Deactivation ended the sessions too: the old ID token stays void, a login after it works.
    expect((await exchange(exchangeParams(idToken))).status).toBe(400);
    await nextSecondAfter(answer.user.sessions_cleared_at!);
    expect((await exchange(exchangeParams(await login("bob")))).status).toBe(200);
  });

  it("clear-sessions voids earlier ID tokens but leaves the user active", async () => {
    const sink = await openSink();
    const idToken = await login("alice");
    const answer = await (await act("alice", "clear-sessions", sink)).json<AdminAnswer>();
    expect(answer.user).toMatchObject({ active: true, sessions_cleared_at: expect.any(Number) });
    const res = await exchange(exchangeParams(idToken));
    expect(await res.json()).toMatchObject({ error: "invalid_grant", error_description: "The user's sessions were cleared after this login; log in again." });
  });

  it("remove-group takes a JSON body too, and the next ID-JAG lacks the group", async () => {
    const sink = await openSink();
    const answer = await (await act("alice", "remove-group", sink, { group: "engineering" }, true)).json<AdminAnswer>();
    expect(answer.user).toMatchObject({ groups: [], removed_groups: ["engineering"] });
    const users = await (await call("/dev/users")).json<{ users: AdminAnswer["user"][] }>();
    expect(users.users.find((u) => u.name === "alice")).toMatchObject({ groups: [], removed_groups: ["engineering"] });
  });

  it.each([
    ["no group", undefined, "group is missing."],
    ["a group the user is not in", { group: "sales" }, "The user is not in that group."],
    ["a group that does not exist", { group: "admins" }, "The user is not in that group."],
  ])("remove-group refuses %s, pushing nothing", async (_name, body, description) => {
    const sink = await openSink();
    const res = await act("alice", "remove-group", sink, body);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_request", error_description: description });
    expect(await sink.requests()).toEqual([]);
  });

  it("answers 404 for an unknown user or action, pushing nothing", async () => {
    const sink = await openSink();
    const unknownUser = await act("mallory", "deactivate", sink);
    expect(unknownUser.status).toBe(404);
    expect(await unknownUser.json()).toMatchObject({ error_description: "No such user." });
    const unknownAction = await act("alice", "delete", sink);
    expect(unknownAction.status).toBe(404);
    expect(await unknownAction.json()).toMatchObject({ error_description: "No such endpoint." });
    expect(await sink.requests()).toEqual([]);
  });

  it("refuses GET on an action", async () => {
    const sink = await openSink();
    expect((await call("/dev/users/alice/deactivate", {}, sinkEnv(sink))).status).toBe(405);
    expect(await sink.requests()).toEqual([]);
  });
});

describe("failed pushes", () => {
  it("answers 502 with each push's status when ema-edge answers 5xx, after the state change is stored", async () => {
    const sink = await openSink({ mode: "status", status: 503 });
    const res = await act("bob", "deactivate", sink);
    expect(res.status).toBe(502);
    const answer = await res.json<AdminAnswer>();
    expect(answer.delivered).toBe(false);
    expect(answer.pushes.map((p) => [p.channel, p.status, p.ok])).toEqual([["okta_event_hook", 503, false], ["ssf", 503, false]]);
    expect(answer.pushes[0]!.error).toContain("sink told to fail");
    expect(JSON.stringify(answer)).not.toContain("dev-okta-hook-secret");
    // One attempt per channel, no retry loop.
    expect(await sink.requests()).toHaveLength(2);
    expect(await kv.get("user:v1:bob", "json")).toMatchObject({ active: false });
  });

  it("gives up on a push that never answers after PUSH_TIMEOUT_MS", async () => {
    const sink = await openSink({ mode: "hang" });
    const started = Date.now();
    const res = await act("carol", "clear-sessions", sink, undefined, false, { PUSH_TIMEOUT_MS: "300" });
    expect(res.status).toBe(502);
    expect(Date.now() - started).toBeLessThan(3000);
    const answer = await res.json<AdminAnswer>();
    expect(answer.pushes.map((p) => [p.status, p.ok, p.error])).toEqual([
      [null, false, "no answer within 300 ms"],
      [null, false, "no answer within 300 ms"],
    ]);
    expect(answer.user.sessions_cleared_at).not.toBeNull();
  });
});

describe("GET /dev/users and POST /dev/reset", () => {
  it("lists the seeded users and client without secrets", async () => {
    const res = await call("/dev/users");
    const body = await res.json<{ users: Record<string, unknown>[]; clients: unknown[] }>();
    expect(body.users.map((u) => [u.name, u.sub, u.groups, u.amr, u.active])).toEqual([
      ["alice", SUBS.alice, ["engineering"], ["pwd", "mfa"], true],
      ["bob", SUBS.bob, ["sales"], ["pwd"], true],
      ["carol", SUBS.carol, [], ["pwd"], true],
    ]);
    expect(body.clients).toEqual([{ client_id: "demo-client" }]);
    expect(JSON.stringify(body)).not.toContain("demo-secret");
  });

  it("reset restores the seeded state", async () => {
    const sink = await openSink();
    await act("bob", "deactivate", sink);
    await act("bob", "remove-group", sink, { group: "sales" });
    const body = await (await call("/dev/reset", { method: "POST" })).json<{ users: Record<string, unknown>[] }>();
    expect(body.users.find((u) => u.name === "bob")).toMatchObject({ active: true, groups: ["sales"], removed_groups: [], sessions_cleared_at: null });
  });
});
