// The soak's strict checker: every request is sent with the one answer its kind must get (status,
// the exact body or its exact shape, the headers that matter), and the tally counts requests by
// kind and status and keeps every wrong answer as expected-versus-got. Nothing here knows ema-edge's
// internals: the expected wording is written out, so a changed answer shows up as a wrong one.
import { request as httpRequest } from "node:http";

export interface Got {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body when it is JSON; undefined otherwise. */
  json: unknown;
  ms: number;
}

/** Returns what is wrong with an answer, or undefined when it is exactly the expected one. */
export type Check = (got: Got) => string | undefined;

export interface WrongAnswer {
  kind: string;
  expected: string;
  got: string;
}

/** Per request: at most this long before it counts as "no answer". */
const REQUEST_TIMEOUT_MS = 15_000;
/** Wrong answers kept in full for the report; all are counted. */
const MAX_KEPT_WRONG = 40;

export class Tally {
  readonly byKind = new Map<string, Map<string, number>>();
  readonly wrong: WrongAnswer[] = [];
  wrongCount = 0;
  serverErrorsOnValid = 0;
  serverErrorsOnHostile = 0;
  tooManyRequests = 0;
  noAnswer = 0;
  requests = 0;
  readonly latencies: number[] = [];

  /**
   * Sends one request and checks its answer. `valid`: a request a correct server must serve (its
   * 5xx are counted apart). `throttleable`: a 429 rate-limit answer is acceptable in its place
   * (only when the soak runs with the deployed rate limits).
   */
  async send(kind: string, valid: boolean, url: string, init: RequestInit, check: Check, throttleable = false, ownConnection = false): Promise<Got | undefined> {
    this.requests++;
    const started = performance.now();
    let got: Got;
    try {
      const response = await (ownConnection ? fetchOnOwnConnection : fetch)(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      const text = await response.text();
      let json: unknown;
      if ((response.headers.get("content-type") ?? "").includes("json")) {
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
      }
      got = { status: response.status, headers: response.headers, text, json, ms: performance.now() - started };
    } catch (error) {
      this.noAnswer++;
      this.count(kind, "no answer");
      this.fail(kind, "an answer", `${errorText(error)} after ${Math.round(performance.now() - started)} ms`);
      return undefined;
    }
    this.latencies.push(got.ms);
    this.count(kind, String(got.status));
    if (got.status >= 500) {
      if (valid) this.serverErrorsOnValid++;
      else this.serverErrorsOnHostile++;
    }
    if (got.status === 429) {
      this.tooManyRequests++;
      if (throttleable && isRateLimited(got) === undefined) return got;
    }
    const problem = check(got);
    if (problem !== undefined) this.fail(kind, problem, describe(got));
    return got;
  }

  /** A wrong answer found outside send (e.g. the KV mirror read at the end). */
  fail(kind: string, expected: string, got: string): void {
    this.wrongCount++;
    if (this.wrong.length < MAX_KEPT_WRONG) this.wrong.push({ kind, expected, got });
  }

  count(kind: string, status: string): void {
    const statuses = this.byKind.get(kind) ?? new Map<string, number>();
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    this.byKind.set(kind, statuses);
  }
}

/**
 * One request on a connection of its own (node:http, no keep-alive), for bodies the server refuses
 * unread. Local workerd answers such a 413 without `Connection: close` and then resets the
 * connection when the unread body exceeded its buffers (300 KiB does; 33 KiB does not), so the next
 * request a pooled client sends on it fails with ECONNRESET. Cloudflare's edge terminates client
 * connections itself; this is the local runtime's behaviour, not ema-edge's answer.
 */
async function fetchOnOwnConnection(url: string, init: RequestInit): Promise<Response> {
  const target = new URL(url);
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => (headers[name] = value));
  let body: Uint8Array[] = [];
  if (typeof init.body === "string") body = [new TextEncoder().encode(init.body)];
  else if (init.body instanceof Uint8Array) body = [init.body];
  else if (init.body instanceof ReadableStream) {
    for await (const chunk of init.body as unknown as AsyncIterable<Uint8Array>) body.push(chunk);
    delete headers["content-length"]; // streamed: chunked, no declared length
  } else if (init.body != null) throw new Error("fetchOnOwnConnection: unsupported body");
  const chunked = init.body instanceof ReadableStream;
  if (!chunked) headers["content-length"] = String(body.reduce((n, c) => n + c.byteLength, 0));
  return new Promise<Response>((resolve, reject) => {
    const req = httpRequest({ hostname: target.hostname, port: target.port, path: target.pathname + target.search, method: init.method ?? "GET", headers, agent: false, signal: init.signal ?? undefined }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(", ") : v);
        const status = res.statusCode ?? 0;
        resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers: h }));
      });
    });
    // The server may answer and close before reading it all: a write error after the answer is expected.
    req.on("error", reject);
    for (const c of body) req.write(c);
    req.end();
  });
}

/** The error and its cause (undici puts the socket error there), e.g. "TypeError (SocketError: other side closed)". */
function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { name?: string; code?: string; message?: string } | undefined;
  return cause ? `${error.name} (${cause.code ?? cause.name}: ${cause.message})` : `${error.name}: ${error.message}`;
}

/** One line of what came back, never more than a few hundred characters. */
export function describe(got: Got): string {
  return `${got.status} ${got.text.replace(/\s+/g, " ").slice(0, 240) || "(empty body)"}`;
}

const sameJson = (a: unknown, b: unknown) => canonical(a) === canonical(b);
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Status, the exact JSON body, and the given headers (exact values). */
export function exactJson(status: number, body: unknown, headers: Record<string, string> = {}): Check {
  return (got) => {
    if (got.status !== status) return `${status} ${JSON.stringify(body)}`;
    if (got.json === undefined || !sameJson(got.json, body)) return `body ${JSON.stringify(body)}`;
    return checkHeaders(got, headers);
  };
}

/** The status and an empty body. */
export function emptyBody(status: number): Check {
  return (got) => (got.status !== status || got.text !== "" ? `${status} with an empty body` : undefined);
}

/** RFC 6749 §5.2 error: exact {error, error_description}, no-store, and the challenge/Allow a status requires. */
export function oauthError(status: number, error: string, description: string): Check {
  const headers: Record<string, string> = { "cache-control": "no-store" };
  if (status === 401) headers["www-authenticate"] = 'Basic realm="ema-edge", charset="UTF-8"';
  if (status === 405) headers.allow = "POST";
  return exactJson(status, { error, error_description: description }, headers);
}

/** The generic descriptions of non-public reasons (oauth/errors.ts GENERIC), written out. */
export const GENERIC = {
  invalid_client: "Client authentication failed.",
  invalid_grant: "The assertion is not acceptable.",
  unsupported_grant_type: "The grant type is not supported.",
} as const;

/** The RFC 8935 §2.3 answer of the SSF receiver: 400 and exactly {err, description}. */
export function setError(err: string, description: string): Check {
  return exactJson(400, { err, description });
}

/** Okta webhook refusals: the status and exactly {"error": …}, no-store. */
export function webhookError(status: number, error: string): Check {
  return exactJson(status, { error }, { "cache-control": "no-store" });
}

function checkHeaders(got: Got, headers: Record<string, string>): string | undefined {
  for (const [name, value] of Object.entries(headers)) {
    if (got.headers.get(name) !== value) return `header ${name}: ${value} (got ${got.headers.get(name)})`;
  }
  if (!got.headers.get("x-request-id")) return "an X-Request-Id header";
  return undefined;
}

/** A per-client or per-address 429 with its exact body and Retry-After. */
function isRateLimited(got: Got): string | undefined {
  const body = got.json as Record<string, unknown> | undefined;
  const known = [
    "Too many requests from this client; retry after the Retry-After delay.",
    "Too many requests from this address; retry after the Retry-After delay.",
  ];
  if (body === undefined || !known.includes(body.error_description as string) || got.headers.get("retry-after") === null) return "a 429 rate-limit answer";
  return undefined;
}

/** Median of a list of numbers (undefined when empty). */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
