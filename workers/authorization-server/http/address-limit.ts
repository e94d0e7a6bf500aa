// The per-address rate limit, in front of an endpoint: counted before anything is parsed, so a flood
// of junk from one address costs one limiter call each. The tier comes from the policy (memory-cached;
// the defaults when it cannot be read, so a KV outage does not turn into a limit outage).
import type { RateLimitedEndpoint } from "../../lib/kv-records";
import { loadPolicy } from "../config/policy-store";
import type { Env } from "../env";
import { jsonNoStore } from "../oauth/errors";
import { exceededTier, RETRY_AFTER_SECONDS, sourceAddress } from "./rate-limit";

type Handler<R extends Request, A extends unknown[]> = (request: R, env: Env, ...rest: A) => Promise<Response>;

/** Wraps `handler` with the endpoint's per-address limit: 429 + Retry-After when over it. */
export function limitPerAddress<R extends Request, A extends unknown[]>(endpoint: RateLimitedEndpoint, handler: Handler<R, A>): Handler<R, A> {
  return async (request, env, ...rest) => {
    const address = sourceAddress(request);
    if (address !== undefined) {
      const policy = await loadPolicy(env.CONFIG, env.ISSUER, Math.floor(Date.now() / 1000));
      if ((await exceededTier(env, policy.ok ? policy.value.doc : undefined, endpoint, "per_address", address)) !== undefined) return tooManyRequests(endpoint);
    }
    return handler(request, env, ...rest);
  };
}

/** OAuth JSON at the OAuth endpoints (RFC 6749 §5.2 shape); a small JSON body for webhook senders, which read the status. */
function tooManyRequests(endpoint: RateLimitedEndpoint): Response {
  const headers = { "Retry-After": String(RETRY_AFTER_SECONDS) };
  const description = "Too many requests from this address; retry after the Retry-After delay.";
  return endpoint === "webhooks"
    ? jsonNoStore({ error: "too_many_requests", error_description: description }, 429, headers)
    : jsonNoStore({ error: "temporarily_unavailable", error_description: description }, 429, headers);
}
