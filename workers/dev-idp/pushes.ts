// Sends what events.ts built to ema-edge, as the real IdP would: the Okta delivery with the hook
// secret as `Authorization` (Okta's header auth), the SET signed with the IdP key as
// `application/secevent+jwt` (RFC 8935). One attempt each, bounded by a timeout: the admin call
// reports a failure instead of retrying, and the caller decides whether to run it again.
import { SignJWT } from "jose";
import type { SigningKey } from "./keys";

export const DEFAULT_PUSH_TIMEOUT_MS = 5000;
/** Enough of ema-edge's answer to see why it refused, without echoing a large body. */
const MAX_RESPONSE_EXCERPT = 300;

export interface PushResult {
  channel: "okta_event_hook" | "ssf";
  url: string;
  /** HTTP status, or null when no answer came (network error, timeout). */
  status: number | null;
  ok: boolean;
  ms: number;
  /** Why there was no answer, or the start of a non-2xx answer. */
  error?: string;
}

export interface PushTarget {
  /** EMA_EDGE_ISSUER without a trailing slash. */
  base: string;
  idpId: string;
  hookSecret: string;
  timeoutMs: number;
}

export const oktaHookUrl = (t: Pick<PushTarget, "base" | "idpId">) => `${t.base}/hooks/okta/${encodeURIComponent(t.idpId)}`;
export const ssfUrl = (t: Pick<PushTarget, "base" | "idpId">) => `${t.base}/ssf/${encodeURIComponent(t.idpId)}`;

export function pushOktaDelivery(target: PushTarget, delivery: Record<string, unknown>): Promise<PushResult> {
  return post("okta_event_hook", oktaHookUrl(target), {
    "Content-Type": "application/json",
    Accept: "application/json",
    Authorization: target.hookSecret,
  }, JSON.stringify(delivery), target.timeoutMs);
}

export async function pushSet(target: PushTarget, claims: Record<string, unknown>, key: SigningKey): Promise<PushResult> {
  const set = await signSet(claims, key);
  return post("ssf", ssfUrl(target), { "Content-Type": "application/secevent+jwt", Accept: "application/json" }, set, target.timeoutMs);
}

/** A SET as SSF 1.0 requires it: `typ: secevent+jwt`, the IdP's kid, no added claims. */
export function signSet(claims: Record<string, unknown>, key: SigningKey): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "secevent+jwt" }).sign(key.privateKey);
}

async function post(channel: PushResult["channel"], url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<PushResult> {
  const started = Date.now();
  try {
    const response = await fetch(url, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    const ok = response.status >= 200 && response.status < 300;
    return { channel, url, status: response.status, ok, ms: Date.now() - started, ...(!ok && { error: text.slice(0, MAX_RESPONSE_EXCERPT) }) };
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    // The error's name only: runtime messages are unbounded text we did not write.
    return { channel, url, status: null, ok: false, ms: Date.now() - started, error: timedOut ? `no answer within ${timeoutMs} ms` : `network error (${error instanceof Error ? error.name : "unknown"})` };
  }
}

/** PUSH_TIMEOUT_MS as a positive integer, else the default. */
export function pushTimeoutMs(value: string | undefined): number {
  const n = Number(value);
  return Number.isSafeInteger(n) && n > 0 && n <= 60_000 ? n : DEFAULT_PUSH_TIMEOUT_MS;
}
