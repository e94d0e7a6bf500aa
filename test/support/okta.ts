// Okta-shaped fixtures for the Event Hook and Universal Logout tests: System Log LogEvents and hook
// envelopes as reference §2.4 shows them, calls to the Worker, an audit collector that keeps every
// line of a request (a delivery writes one per revocation plus its own), and the SubjectShard's
// stored revoked_before, read directly.
import { env, exports } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import { revokedBefore } from "../../workers/authorization-server/revocation/ledger";
import { addressSubject } from "../../workers/authorization-server/revocation/shard-key";
import type { SubjectShard } from "../../workers/authorization-server/revocation/subject-shard";
import type { SubjectRef } from "../../workers/lib/revocation-mirror";
import { ISSUER } from "./world";

export const HOOK_SECRET = "okta-hook-secret-for-tests-0123456789abcdef";
export const NEXT_HOOK_SECRET = "okta-hook-secret-after-rotation-fedcba9876543210";
export const HOOK_ID = "whoHOOK0001";

export const hookUrl = (issuerId: string) => `${ISSUER}/hooks/okta/${issuerId}`;
export const logoutUrl = (issuerId: string) => `${ISSUER}/logout/okta/${issuerId}`;

/** ISO 8601 with milliseconds, as Okta writes `published`. */
export const iso = (epochSeconds: number, ms = 0) => new Date(epochSeconds * 1000 + ms).toISOString();

export const uniqueSub = () => `00u${crypto.randomUUID().replace(/-/g, "").slice(0, 17)}`;

export const userTarget = (id: string) => ({ id, type: "User", alternateId: `${id}@acme.example`, displayName: "Jo Employee" });

/** A successful `user.lifecycle.deactivate` of `sub` published now; `overrides` replace or (undefined) delete fields. */
export function logEvent(sub: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const event: Record<string, unknown> = {
    uuid: crypto.randomUUID(),
    published: new Date().toISOString(),
    eventType: "user.lifecycle.deactivate",
    version: "0",
    displayMessage: "Deactivate Okta user",
    severity: "INFO",
    actor: { id: "00uADMIN0001", type: "User", alternateId: "it-admin@acme.example", displayName: "IT Admin" },
    target: [userTarget(sub)],
    outcome: { result: "SUCCESS", reason: null },
    transaction: { type: "WEB", id: "XyZ123", detail: {} },
    client: { ipAddress: "203.0.113.7" },
  };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete event[k];
    else event[k] = v;
  }
  return event;
}

/** The delivery envelope around `events`. */
export function envelope(events: unknown[], overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const body: Record<string, unknown> = {
    eventType: "com.okta.event_hook",
    eventTypeVersion: "1.0",
    cloudEventsVersion: "0.1",
    source: `https://acme.okta.example/api/v1/eventHooks/${HOOK_ID}`,
    eventId: crypto.randomUUID(),
    eventTime: new Date().toISOString(),
    contentType: "application/json",
    data: { events },
  };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete body[k];
    else body[k] = v;
  }
  return body;
}

export interface DeliverOptions {
  /** The secret header's value (default HOOK_SECRET); null sends none. */
  secret?: string | null;
  header?: string;
  contentType?: string | null;
  method?: string;
  headers?: Record<string, string>;
}

/** POSTs a delivery as Okta does; a string body is sent verbatim. */
export function deliver(issuerId: string, body: unknown, options: DeliverOptions = {}): Promise<Response> {
  const secret = options.secret === undefined ? HOOK_SECRET : options.secret;
  const contentType = options.contentType === undefined ? "application/json" : options.contentType;
  return exports.default.fetch(hookUrl(issuerId), {
    method: options.method ?? "POST",
    headers: {
      accept: "application/json",
      ...(contentType !== null && { "content-type": contentType }),
      ...(secret !== null && { [options.header ?? "authorization"]: secret }),
      ...options.headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export interface AuditLog {
  /** Every ema.* line of a request, in order. */
  lines: Map<string, Record<string, any>[]>;
  /** The last line of each request: the shape world.ts's expectRefusal reads. */
  last: Map<string, Record<string, any>>;
}

/** Collects the Worker's audit lines (it runs in this isolate). Call once per file, in beforeAll. */
export function captureAuditLog(): AuditLog {
  const log: AuditLog = { lines: new Map(), last: new Map() };
  const original = console.log;
  console.log = (...args: unknown[]) => {
    const line = args[0];
    if (typeof line === "string" && line.startsWith('{"type":"ema.')) {
      const event = JSON.parse(line);
      if (event.request_id) {
        log.lines.set(event.request_id, [...(log.lines.get(event.request_id) ?? []), { ...event, raw: line }]);
        log.last.set(event.request_id, event);
      }
      return;
    }
    original(...args);
  };
  return log;
}

/** The lines of the response's request. */
export const linesOf = (log: AuditLog, res: Response) => log.lines.get(res.headers.get("x-request-id") ?? "") ?? [];

/**
 * Asserts a refused webhook call: status, the body's `error`, and the one `ema.webhook` audit line
 * with the precise reason, and that nothing was revoked by the request. Returns the audit line.
 */
export async function expectWebhookRefusal(
  res: Response,
  log: AuditLog,
  expected: { status: number; reason: string; error?: string; channel?: string },
): Promise<Record<string, any>> {
  const body = await res.json<{ error: string }>();
  const lines = linesOf(log, res);
  const refusal = lines.find((l) => l.type === "ema.webhook");
  expect({ status: res.status, reason: refusal?.reason, outcome: refusal?.outcome }).toEqual({ status: expected.status, reason: expected.reason, outcome: "refused" });
  if (expected.error !== undefined) expect(body.error).toBe(expected.error);
  if (expected.channel !== undefined) expect(refusal?.channel).toBe(expected.channel);
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(lines.filter((l) => l.type === "ema.revocation")).toEqual([]);
  return refusal!;
}

/** The subject's revoked_before as the SubjectShard holds it (undefined: never revoked). */
export async function storedRevokedBefore(subject: SubjectRef): Promise<number | undefined> {
  const address = await addressSubject(subject);
  const stub = env.SUBJECT_SHARD.get(env.SUBJECT_SHARD.idFromName(address.shardName));
  return runInDurableObject(stub, (_: SubjectShard, state) => revokedBefore(state.storage.sql, address.subjectKey));
}

/** An env whose SubjectShard cannot be reached: every RPC rejects, as an overloaded or reset object does. */
export function envWithUnavailableShard(overrides: Record<string, (...args: any[]) => Promise<unknown>> = {}): typeof env {
  const failing = async () => {
    throw new Error("Durable Object is overloaded");
  };
  const stub = new Proxy({} as Record<string, unknown>, { get: (_, name) => (name === "then" ? undefined : typeof name === "string" && name in overrides ? overrides[name] : failing) });
  return { ...env, SUBJECT_SHARD: { idFromName: (name: string) => env.SUBJECT_SHARD.idFromName(name), get: () => stub } } as unknown as typeof env;
}

/** A minimal ExecutionContext for calling a handler directly. */
export const testContext = (): ExecutionContext => ({ waitUntil: () => {}, passThroughOnException: () => {}, props: {} }) as unknown as ExecutionContext;
