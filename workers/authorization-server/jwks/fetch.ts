// Bounded HTTP fetches of an IdP's JWK set and metadata, and the freshness its Cache-Control
// grants. Every outbound request goes through `fetchIdpJson`: https only (loopback excepted), no
// redirects, one deadline, a byte cap read off the stream. Spec notes §4 step 6, §10 row 11.
import { ok, refuse, type Result } from "../../lib/result";
import { parseStrictJson } from "../../lib/strict-json";

export const JWKS_FETCH_TIMEOUT_MS = 5_000; // an IdP that hangs must not hold a token request longer
export const MAX_IDP_DOCUMENT_BYTES = 64 * 1024; // real key sets are a few KiB; a huge body is an attack
export const MAX_JWKS_KEYS = 64; // matches kv-schemas/jwks.v1 maxItems; bounds import work per set
export const JWKS_MIN_FRESH_SECONDS = 60; // max-age=0 from the IdP must not mean a fetch per request
export const JWKS_MAX_FRESH_SECONDS = 3_600; // a removed key must stop verifying within the hour
export const JWKS_DEFAULT_FRESH_SECONDS = 600; // no usable max-age: refresh every 10 minutes

/** Members that only a private or symmetric JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037). */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] as const;

/** A failed fetch; `status` is set when the host answered with something other than 200. */
export interface FetchFailure {
  detail: string;
  status?: number;
}

/** Whether we may fetch keys or metadata from `url`: https, or http to a loopback host (dev, tests). */
export function isFetchableUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === "https:") return true;
  const host = parsed.hostname;
  return (
    parsed.protocol === "http:" &&
    (host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host))
  );
}

/**
 * The `max-age` of a Cache-Control value in seconds, or undefined when absent, repeated, malformed
 * or overridden by `no-store` (RFC 9111 §5.2: directives are case-insensitive; a duplicated
 * directive is invalid; a quoted value is accepted).
 */
export function parseMaxAge(cacheControl: string | null): number | undefined {
  if (cacheControl === null) return undefined;
  const directives = cacheControl.split(",").map((d) => d.trim().toLowerCase());
  if (directives.includes("no-store")) return undefined;
  const values = directives.filter((d) => /^max-age\s*=/.test(d)).map((d) => d.replace(/^max-age\s*=\s*/, ""));
  if (values.length !== 1) return undefined;
  const digits = /^"?(\d+)"?$/.exec(values[0]!);
  return digits ? Number(digits[1]) : undefined;
}

/** Seconds a fetched set stays fresh: the response's max-age clamped to [60, 3600], else 600. */
export function freshnessSeconds(cacheControl: string | null): number {
  const maxAge = parseMaxAge(cacheControl);
  if (maxAge === undefined) return JWKS_DEFAULT_FRESH_SECONDS;
  return Math.min(JWKS_MAX_FRESH_SECONDS, Math.max(JWKS_MIN_FRESH_SECONDS, maxAge));
}

/**
 * Checks a parsed body is a JWK set and keeps only its public keys. A private member means the
 * IdP leaked a secret: that key is dropped rather than trusted, the rest of the set still serves.
 */
export function toPublicJwks(body: unknown): Result<{ keys: JsonWebKey[] }, string> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return refuse("jwks is not a JSON object");
  const keys = (body as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) return refuse("jwks has no keys array");
  if (keys.length > MAX_JWKS_KEYS) return refuse(`jwks has more than ${MAX_JWKS_KEYS} keys`);
  // A key with private members, or members of the wrong type, is dropped: one malformed entry must
  // not break verification with the issuer's other keys.
  const isPublicKey = (k: unknown): k is JsonWebKey =>
    typeof k === "object" && k !== null && !Array.isArray(k) && typeof (k as JsonWebKey).kty === "string" &&
    PRIVATE_MEMBERS.every((m) => !(m in k)) &&
    ["kid", "use", "alg", "crv"].every((m) => (k as Record<string, unknown>)[m] === undefined || typeof (k as Record<string, unknown>)[m] === "string") &&
    ((k as JsonWebKey).key_ops === undefined || (Array.isArray((k as JsonWebKey).key_ops) && (k as JsonWebKey).key_ops!.every((o) => typeof o === "string")));
  return ok({ keys: keys.filter(isPublicKey) });
}

/** Fetches a JWK set; returns its public keys and how long they stay fresh. */
export async function fetchJwks(
  url: string,
  fetchFn: typeof fetch,
  signal: AbortSignal,
): Promise<Result<{ jwks: { keys: JsonWebKey[] }; freshSeconds: number }, FetchFailure>> {
  const fetched = await fetchIdpJson(url, fetchFn, signal);
  if (!fetched.ok) return fetched;
  const jwks = toPublicJwks(fetched.value.body);
  if (!jwks.ok) return refuse({ detail: jwks.error });
  return ok({ jwks: jwks.value, freshSeconds: freshnessSeconds(fetched.value.cacheControl) });
}

/** GETs a JSON document from an IdP within the bounds above. Never throws. */
export async function fetchIdpJson(
  url: string,
  fetchFn: typeof fetch,
  signal: AbortSignal,
): Promise<Result<{ body: unknown; cacheControl: string | null }, FetchFailure>> {
  if (!isFetchableUrl(url)) return refuse({ detail: "url is not https (or http to loopback)" });
  let response: Response;
  try {
    // A redirect is a failure: following one would let any open redirect on the IdP's host pick our keys.
    response = await fetchFn(url, { redirect: "manual", signal, headers: { accept: "application/json" } });
  } catch {
    return refuse({ detail: signal.aborted ? "timed out" : "network error" });
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    return refuse({ detail: `answered HTTP ${response.status}`, status: response.status });
  }
  const text = await readCapped(response, signal);
  if (!text.ok) return text;
  const parsed = parseStrictJson(text.value);
  if (!parsed.ok) return refuse({ detail: `body is not JSON (${parsed.error})` });
  return ok({ body: parsed.value, cacheControl: response.headers.get("cache-control") });
}

/** Reads the body as UTF-8, giving up past the byte cap or the deadline (Content-Length may lie). */
async function readCapped(response: Response, signal: AbortSignal): Promise<Result<string, FetchFailure>> {
  const tooLarge = refuse({ detail: `body exceeds ${MAX_IDP_DOCUMENT_BYTES} bytes` });
  if (Number(response.headers.get("content-length")) > MAX_IDP_DOCUMENT_BYTES) {
    await response.body?.cancel();
    return tooLarge;
  }
  if (response.body === null) return ok("");
  // The fetch's signal also aborts this read, so a body that trickles still meets the deadline
  // (the "trickle" case in test/integration/jwks-cache.test.ts).
  const reader = response.body.getReader();
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  let text = "";
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return ok(text + decoder.decode());
      total += value.byteLength;
      if (total > MAX_IDP_DOCUMENT_BYTES) {
        await reader.cancel();
        return tooLarge;
      }
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    reader.cancel().catch(() => {});
    return refuse({ detail: signal.aborted ? "timed out" : "body unreadable or not UTF-8" });
  }
}
