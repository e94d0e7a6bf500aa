// The verification key for an ID-JAG, from three tiers: this isolate's memory, the KV copy every
// isolate and location shares, then the issuer's own jwks_uri (spec notes §4 step 6, §10 row 11).
// Keys come only from the configured or discovered jwks_uri, never from jku/x5u/jwk/x5c headers.
// A stale set serves through an IdP outage up to a bound; past it, or with nothing cached, we fail closed.
import { importJWK } from "jose";
import { sha256Base64Url } from "../../lib/digest";
import { checkRecord, KV_KEYS, type JwksRecord, type SignatureAlgorithm, type TrustedIssuer } from "../../lib/kv-records";
import { ok, refuse, type Result } from "../../lib/result";
import type { TrustRefusal } from "../oauth/refusal";
import { discoverJwksUri } from "./discovery";
import { fetchJwks, JWKS_FETCH_TIMEOUT_MS, type FetchFailure } from "./fetch";
import { selectKey } from "./select";

export const JWKS_REFETCH_COOLDOWN_SECONDS = 30; // random kids (or a down IdP) must not hammer the IdP
export const JWKS_MAX_STALE_SECONDS = 24 * 3_600; // outlive a day-long IdP outage, not a key compromise
const KV_MIN_EXPIRATION_TTL_SECONDS = 60; // KV refuses a shorter expirationTtl
// JWKS_MIN_FRESH_SECONDS (60) > the cool-down (30): a set's own fetch never delays its refresh on expiry.

export interface JwksDeps {
  kv: KVNamespace;
  fetch: typeof fetch;
  /** epoch seconds, read once per request by the caller */
  now: number;
  /** Test only: a shorter deadline for the whole IdP round (discovery + JWKS). */
  timeoutMs?: number;
  /**
   * The request's `ctx.waitUntil`: when given, sharing a fetched set through KV happens after the
   * response instead of before it (the keys in hand already answer this request).
   */
  waitUntil?: (promise: Promise<unknown>) => void;
}

/** What one isolate knows about one issuer's keys. */
interface IssuerState {
  record?: JwksRecord;
  /** Imported keys of `record` by alg and kid, so the hot path does no import. */
  imported: Map<string, CryptoKey>;
  /** When this isolate last began an IdP fetch for the issuer. */
  attemptedAt?: number;
  /** When this isolate's last IdP fetch failed while it held no set. */
  failedAt?: number;
  /** The IdP fetch under way, which concurrent misses join instead of starting their own. */
  inFlight?: Promise<Result<JwksRecord, FetchFailure>>;
}

// Per isolate, keyed by the issuer string: only configured issuers reach here, so it stays small.
const memory = new Map<string, IssuerState>();

/** Forgets every cached set in this isolate, as a fresh isolate would start. */
export function clearJwksMemoryForTests(): void {
  memory.clear();
}

/**
 * Resolves the CryptoKey that verifies a JWS from `issuer` with header alg/kid: memory → KV → IdP.
 * A fresh in-memory set holding the kid costs no I/O. An unknown kid refetches at most once per
 * cool-down per isolate, and not at all when KV holds a set fetched within the cool-down.
 * Never throws for IdP or KV trouble: that is `jwks_unavailable`, or a stale set within 24 h.
 */
export async function resolveVerificationKey(
  issuer: TrustedIssuer,
  header: { alg: SignatureAlgorithm; kid?: string },
  deps: JwksDeps,
): Promise<Result<CryptoKey, TrustRefusal>> {
  const { now } = deps;
  const state = stateFor(issuer);
  const held = await answerFromMemory(state, header, now);
  if (held !== undefined) return held;
  if (state.record === undefined && state.failedAt !== undefined && now - state.failedAt < JWKS_REFETCH_COOLDOWN_SECONDS) {
    return refuse({ reason: "jwks_unavailable", detail: "no cached keys; IdP failed within the cool-down" });
  }

  // Another isolate may hold a newer set, perhaps one fetched moments ago: look in KV first.
  const kvKey = KV_KEYS.jwks(await sha256Base64Url(issuer.issuer));
  const shared = await readShared(deps.kv, kvKey, issuer);
  if (shared && (state.record === undefined || shared.fetched_at > state.record.fetched_at)) adopt(state, shared);
  const fromShared = await answerFromMemory(state, header, now);
  if (fromShared !== undefined) return fromShared;

  // Only the IdP is left: one fetch per isolate at a time, which concurrent misses join (the first
  // requests of a cold isolate would otherwise each fetch; the cool-down only holds once a set is here).
  if (state.inFlight !== undefined) {
    const joined = await state.inFlight;
    if (joined.ok && state.record?.fetched_at !== joined.value.fetched_at) adopt(state, joined.value);
    if (joined.ok) return keyFrom(state, header);
    return state.record === undefined ? refuse({ reason: "jwks_unavailable", detail: `no cached keys; ${joined.error.detail}` }) : serveStale(state, header, now, joined.error.detail);
  }
  state.attemptedAt = now;
  state.inFlight = fetchFromIdp(issuer, deps);
  let fetched: Result<JwksRecord, FetchFailure>;
  try {
    fetched = await state.inFlight;
  } finally {
    state.inFlight = undefined;
  }
  if (!fetched.ok) {
    if (state.record === undefined) {
      state.failedAt = now;
      return refuse({ reason: "jwks_unavailable", detail: `no cached keys; ${fetched.error.detail}` });
    }
    return serveStale(state, header, now, fetched.error.detail);
  }
  adopt(state, fetched.value);
  const sharing = writeShared(deps.kv, kvKey, fetched.value);
  if (deps.waitUntil) deps.waitUntil(sharing);
  else await sharing;
  return keyFrom(state, header);
}

/**
 * The answer the set in memory gives without I/O, or undefined when a newer set might change it:
 * the set has expired, or lacks the kid, and nobody has fetched or tried to within the cool-down.
 */
async function answerFromMemory(
  state: IssuerState,
  header: { alg: SignatureAlgorithm; kid?: string },
  now: number,
): Promise<Result<CryptoKey, TrustRefusal> | undefined> {
  if (state.record === undefined) return undefined;
  if (now < state.record.fresh_until) {
    const hit = await keyFrom(state, header);
    return hit.ok || hit.error.reason !== "kid_unknown" || isCoolingDown(state, now) ? hit : undefined;
  }
  return isCoolingDown(state, now) ? serveStale(state, header, now, "IdP tried within the cool-down") : undefined;
}

function stateFor(issuer: TrustedIssuer): IssuerState {
  let state = memory.get(issuer.issuer);
  // A set fetched from a jwks_uri the policy no longer names must not keep verifying.
  const moved = issuer.jwks_uri !== undefined && state?.record !== undefined && state.record.jwks_uri !== issuer.jwks_uri;
  if (state === undefined || moved) {
    state = { imported: new Map() };
    memory.set(issuer.issuer, state);
  }
  return state;
}

/** Someone fetched this set, or this isolate tried the IdP, within the cool-down. */
function isCoolingDown(state: IssuerState, now: number): boolean {
  const last = Math.max(state.attemptedAt ?? -Infinity, state.record?.fetched_at ?? -Infinity);
  return now - last < JWKS_REFETCH_COOLDOWN_SECONDS;
}

function adopt(state: IssuerState, record: JwksRecord): void {
  state.record = record;
  state.imported = new Map(); // a rotated set must not keep serving a removed key
  state.failedAt = undefined;
}

/** Answers from an expired set while it is within the max-stale bound. */
async function serveStale(
  state: IssuerState,
  header: { alg: SignatureAlgorithm; kid?: string },
  now: number,
  why: string,
): Promise<Result<CryptoKey, TrustRefusal>> {
  if (state.record !== undefined && now - state.record.fetched_at <= JWKS_MAX_STALE_SECONDS) return keyFrom(state, header);
  return refuse({ reason: "jwks_unavailable", detail: `cached keys past max-stale; ${why}` });
}

async function keyFrom(
  state: IssuerState,
  header: { alg: SignatureAlgorithm; kid?: string },
): Promise<Result<CryptoKey, TrustRefusal>> {
  const slot = header.kid === undefined ? header.alg : `${header.alg}:${header.kid}`;
  const cached = state.imported.get(slot);
  if (cached !== undefined) return ok(cached);
  const selected = selectKey(state.record?.jwks.keys ?? [], header);
  if (!selected.ok) return selected;
  const keys = state.imported; // the map of this set: a set adopted meanwhile starts its own
  try {
    const key = await importJWK(selected.value as Parameters<typeof importJWK>[0], header.alg);
    if (key instanceof Uint8Array) return refuse({ reason: "kid_unknown", kid: header.kid ?? null });
    keys.set(slot, key as CryptoKey);
    return ok(key as CryptoKey);
  } catch {
    // A key the IdP published but WebCrypto rejects is unusable, like an absent one.
    return refuse({ reason: "kid_unknown", kid: header.kid ?? null });
  }
}

async function fetchFromIdp(issuer: TrustedIssuer, deps: JwksDeps): Promise<Result<JwksRecord, FetchFailure>> {
  // One deadline for the whole round, so discovery plus JWKS cannot take 5 s each.
  const signal = AbortSignal.timeout(deps.timeoutMs ?? JWKS_FETCH_TIMEOUT_MS);
  const fetchFn = deps.fetch;
  let jwksUri = issuer.jwks_uri;
  if (jwksUri === undefined) {
    const discovered = await discoverJwksUri(issuer.issuer, fetchFn, signal);
    if (!discovered.ok) return discovered;
    jwksUri = discovered.value;
  }
  const fetched = await fetchJwks(jwksUri, fetchFn, signal);
  if (!fetched.ok) return refuse({ detail: `jwks ${fetched.error.detail}` });
  const fetchedAt = Math.floor(deps.now);
  const checked = checkRecord("jwks", {
    issuer: issuer.issuer,
    jwks_uri: jwksUri,
    fetched_at: fetchedAt,
    fresh_until: fetchedAt + fetched.value.freshSeconds,
    jwks: fetched.value.jwks,
  });
  return checked.ok ? ok(checked.value) : refuse({ detail: "jwks does not fit the jwks:v1 schema" });
}

/** The KV copy, if it is valid and belongs to this issuer's configuration; KV trouble reads as a miss. */
async function readShared(kv: KVNamespace, key: string, issuer: TrustedIssuer): Promise<JwksRecord | undefined> {
  let value: unknown;
  try {
    value = await kv.get(key, "json");
  } catch {
    return undefined;
  }
  if (value === null) return undefined;
  const checked = checkRecord("jwks", value);
  if (!checked.ok || checked.value.issuer !== issuer.issuer) return undefined;
  if (issuer.jwks_uri !== undefined && checked.value.jwks_uri !== issuer.jwks_uri) return undefined;
  return checked.value;
}

/** Shares a fetched set; best effort, since the keys in hand already answer this request. */
async function writeShared(kv: KVNamespace, key: string, record: JwksRecord): Promise<void> {
  // Kept until the max-stale bound, the longest anyone may still use it.
  const expirationTtl = Math.max(KV_MIN_EXPIRATION_TTL_SECONDS, JWKS_MAX_STALE_SECONDS);
  try {
    await kv.put(key, JSON.stringify(record), { expirationTtl });
  } catch {
    // KV allows one write per key per second; a concurrent isolate's copy is as good as ours.
  }
}
