// Rate limits per authenticated client and per source address, with the Workers rate-limiting
// binding. The binding's limits are fixed in wrangler.toml, so the policy picks, per endpoint and
// per key, one of three tiers (three bindings) or "off". A limit is an availability control, not an
// access decision: a missing binding or a failing limiter lets the request through (fail open),
// and every access check after it still runs.
import type { EndpointRateLimits, PolicyDoc, RateLimitedEndpoint, RateTier } from "../../lib/kv-records";

/** The `[[ratelimits]]` binding of each tier (wrangler.toml says how many requests per period). */
export const TIER_BINDINGS = { strict: "RATE_LIMIT_STRICT", standard: "RATE_LIMIT_STANDARD", generous: "RATE_LIMIT_GENEROUS" } as const;

/** The binding counts per 60 s window; waiting a window out is always enough. */
export const RETRY_AFTER_SECONDS = 60;

/** What applies when the policy says nothing: a busy agent fits in "standard", an IdP's pushes in "generous". */
export const DEFAULT_RATE_LIMITS: Readonly<Record<RateLimitedEndpoint, Required<EndpointRateLimits>>> = {
  token: { per_client: "standard", per_address: "generous" },
  introspection: { per_client: "generous", per_address: "generous" },
  webhooks: { per_client: "off", per_address: "generous" },
};

export type RateLimitBindings = Partial<Record<(typeof TIER_BINDINGS)[keyof typeof TIER_BINDINGS], RateLimit>>;

/** The tier the policy sets for this endpoint and key kind, or the default. */
function tierOf(policy: PolicyDoc | undefined, endpoint: RateLimitedEndpoint, kind: keyof EndpointRateLimits): RateTier {
  return policy?.rate_limits?.[endpoint]?.[kind] ?? DEFAULT_RATE_LIMITS[endpoint][kind];
}

/**
 * Counts one request against `key` in the tier the policy (or the default) sets for this endpoint
 * and key kind; the tier when the request is over its limit, undefined when within it. Keys are
 * prefixed with the endpoint and the key kind, so one client's token calls and introspections are
 * counted apart, and a client id can never collide with an address.
 */
export async function exceededTier(bindings: RateLimitBindings, policy: PolicyDoc | undefined, endpoint: RateLimitedEndpoint, kind: keyof EndpointRateLimits, key: string): Promise<RateTier | undefined> {
  const tier = tierOf(policy, endpoint, kind);
  if (tier === "off") return undefined;
  const limiter = bindings[TIER_BINDINGS[tier]];
  if (limiter === undefined) return undefined;
  try {
    return (await limiter.limit({ key: `${endpoint}:${kind}:${key}` })).success ? undefined : tier;
  } catch {
    return undefined;
  }
}

/** The caller's address as Cloudflare saw it; absent locally and in tests (no per-address limit then). */
export const sourceAddress = (request: Request): string | undefined => request.headers.get("cf-connecting-ip") ?? undefined;
