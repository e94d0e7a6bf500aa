// Loads policy:v1 from KV into a snapshot the token path can use without further work: issuers by
// exact `iss`, resources by normalised URI. Hot-reloaded: an isolate re-reads KV at most every
// POLICY_REFRESH_SECONDS, so a pushed change reaches every location within that plus KV's own
// edge cache (60 s). A broken or unreadable document never replaces the last good one.
import { KV_KEYS, checkRecord, type PolicyDoc, type TrustedIssuer } from "../../lib/kv-records";
import { sha256Base64Url } from "../../lib/digest";
import { checkPolicySemantics } from "../../lib/policy-check";
import { ok, refuse, type Result } from "../../lib/result";
import { indexResources, type ResourceIndex } from "../assertion/resource";
import type { StateRefusal } from "../oauth/refusal";

/** How long an isolate uses its copy before asking KV again: the staleness bound we document. */
export const POLICY_REFRESH_SECONDS = 15;
/** How long a last good copy keeps serving while KV is unreadable, before we fail closed. */
export const POLICY_MAX_STALE_SECONDS = 600;

export interface PolicySnapshot {
  doc: PolicyDoc;
  /** SHA-256 (base64url) of the stored text. */
  sha256: string;
  /** Trusted issuer entries by exact `iss` (several only for a multi-tenant IdP, one per tenant). */
  issuers: ReadonlyMap<string, readonly TrustedIssuer[]>;
  /** Trusted issuers by their policy id (webhook URLs name it). */
  issuersById: ReadonlyMap<string, TrustedIssuer>;
  resources: ResourceIndex;
  /** Values accepted as an ID-JAG `aud`: our issuer and its configured aliases. */
  audiences: ReadonlySet<string>;
}

interface Cached {
  snapshot: PolicySnapshot;
  /** The stored text the snapshot was built from: an edit that kept the version still counts. */
  text: string;
  loadedAt: number;
  issuer: string;
}
let cached: Cached | undefined;
/** The KV read under way, which concurrent misses join. */
let loading: { issuer: string; promise: Promise<Result<PolicySnapshot, StateRefusal>> } | undefined;

export function buildSnapshot(doc: PolicyDoc, ownIssuer: string, sha256: string): PolicySnapshot {
  return {
    doc,
    sha256,
    issuers: groupBy(doc.issuers, (i) => i.issuer),
    issuersById: new Map(doc.issuers.map((i) => [i.id, i])),
    resources: indexResources(doc.resources),
    audiences: new Set([ownIssuer, ...(doc.audience_aliases ?? [])]),
  };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

/** The current policy snapshot; `config_unavailable` only when there has never been a good one. */
export async function loadPolicy(kv: KVNamespace, ownIssuer: string, now: number): Promise<Result<PolicySnapshot, StateRefusal>> {
  if (cached && cached.issuer === ownIssuer && now - cached.loadedAt < POLICY_REFRESH_SECONDS) return ok(cached.snapshot);
  // Concurrent requests of a cold (or refreshing) isolate share one read and one build.
  if (loading?.issuer === ownIssuer) return loading.promise;
  const promise = refreshPolicy(kv, ownIssuer, now).finally(() => {
    if (loading?.promise === promise) loading = undefined;
  });
  loading = { issuer: ownIssuer, promise };
  return promise;
}

async function refreshPolicy(kv: KVNamespace, ownIssuer: string, now: number): Promise<Result<PolicySnapshot, StateRefusal>> {
  const fallback = (detail: string): Result<PolicySnapshot, StateRefusal> => {
    if (cached && cached.issuer === ownIssuer && now - cached.loadedAt < POLICY_MAX_STALE_SECONDS) return ok(cached.snapshot);
    console.error(JSON.stringify({ type: "ema.config", problem: "policy_unavailable", detail }));
    return refuse({ reason: "config_unavailable", detail });
  };
  let text: string | null;
  try {
    text = await kv.get(KV_KEYS.policy, "text");
  } catch {
    return fallback("kv_read_failed");
  }
  if (text === null) return fallback("policy_missing");
  if (cached && cached.issuer === ownIssuer && cached.text === text) {
    cached.loadedAt = now; // unchanged: keep the built indexes
    return ok(cached.snapshot);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return fallback("policy_not_json");
  }
  const checked = checkRecord("policy", raw);
  if (!checked.ok) return fallback("policy_schema_invalid");
  if (checkPolicySemantics(checked.value, ownIssuer).length > 0) return fallback("policy_semantics_invalid");
  cached = { snapshot: buildSnapshot(checked.value, ownIssuer, await sha256Base64Url(text)), text, loadedAt: now, issuer: ownIssuer };
  return ok(cached.snapshot);
}

/** Tests that push a new policy call this instead of waiting out the refresh interval. */
export function forgetPolicyForTests(): void {
  cached = undefined;
  loading = undefined;
}
