// Rate limits (http/rate-limit.ts) inside workerd with the real rate-limiting bindings. vitest.config
// gives the "strict" tier 3 requests a minute and the others a million, so a test crosses "strict"
// on purpose and nothing else ever does. The limiter state outlives a test, so every test counts
// against its own client id or address.
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { hashClientSecret } from "../../workers/authorization-server/client/secret";
import type { PolicyDoc } from "../../workers/lib/kv-records";
import { basic, ISSUER, JWT_BEARER, setupWorld, TOKEN_URL, type World } from "../support/world";

const SECRET = "rate-limit-client-secret-0123456789abcdef";
let world: World;
beforeAll(async () => {
  world = await setupWorld();
});

let serial = 0;
/** A fresh client (so its count starts at zero) allowed the jwt-bearer grant. */
async function freshClient(): Promise<string> {
  const clientId = `rl-client-${++serial}-${crypto.randomUUID().slice(0, 8)}`;
  await env.CONFIG.put(
    `client:v1:${clientId}`,
    JSON.stringify({
      client_id: clientId,
      status: "active",
      token_endpoint_auth_methods: ["client_secret_basic"],
      client_secrets: [{ hash: await hashClientSecret(SECRET), created_at: "2026-11-01T00:00:00Z" }],
      grant_types: [JWT_BEARER],
    }),
  );
  return clientId;
}

const freshAddress = () => `198.51.100.${++serial % 250}:${crypto.randomUUID().slice(0, 4)}`.replace(/:.*/, "") + `-${serial}`;

async function withLimits(rateLimits: PolicyDoc["rate_limits"]): Promise<void> {
  await world.writePolicy({ ...world.policy, version: world.policy.version + 1, ...(rateLimits && { rate_limits: rateLimits }) });
}

/** A token request as `clientId` that authenticates but carries a junk assertion (refused after the limit check). */
const tokenCall = (clientId: string, secret = SECRET, headers: Record<string, string> = {}) =>
  exports.default.fetch(TOKEN_URL, {
    method: "POST",
    headers: { authorization: basic(clientId, secret), "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams({ grant_type: JWT_BEARER, assertion: "not.a.jws" }),
  });

async function statuses(calls: (() => Promise<Response>)[]): Promise<number[]> {
  const out: number[] = [];
  for (const call of calls) {
    const response = await call();
    await response.body?.cancel();
    out.push(response.status);
  }
  return out;
}

describe("per authenticated client", () => {
  it("answers 429 temporarily_unavailable with Retry-After once a client is over its tier", async () => {
    await withLimits({ token: { per_client: "strict" } });
    const clientId = await freshClient();
    expect(await statuses([1, 2, 3].map(() => () => tokenCall(clientId)))).toEqual([400, 400, 400]);
    const limited = await tokenCall(clientId);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("60");
    expect(limited.headers.get("cache-control")).toBe("no-store");
    expect(await limited.json()).toMatchObject({ error: "temporarily_unavailable" });
  });

  it("refuses over the limit before the assertion is looked at, so a good ID-JAG is not spent", async () => {
    await withLimits({ token: { per_client: "strict" } });
    const clientId = await freshClient();
    await statuses([1, 2, 3].map(() => () => tokenCall(clientId)));
    const assertion = await world.assertion({ client_id: clientId });
    const form = new URLSearchParams({ grant_type: JWT_BEARER, assertion });
    const limited = await exports.default.fetch(TOKEN_URL, { method: "POST", headers: { authorization: basic(clientId, SECRET), "content-type": "application/x-www-form-urlencoded" }, body: form });
    expect(limited.status).toBe(429);
    // With the limit lifted the very same ID-JAG still redeems: nothing was spent.
    await withLimits({ token: { per_client: "off" } });
    const redeemed = await exports.default.fetch(TOKEN_URL, { method: "POST", headers: { authorization: basic(clientId, SECRET), "content-type": "application/x-www-form-urlencoded" }, body: form });
    expect(redeemed.status).toBe(200);
  });

  it("does not count requests that fail client authentication, so nobody can spend another client's quota", async () => {
    await withLimits({ token: { per_client: "strict" } });
    const clientId = await freshClient();
    expect(await statuses([1, 2, 3, 4, 5].map(() => () => tokenCall(clientId, "wrong-secret")))).toEqual([401, 401, 401, 401, 401]);
    expect((await tokenCall(clientId)).status).toBe(400);
  });

  it("never limits with the tier off", async () => {
    await withLimits({ token: { per_client: "off" } });
    const clientId = await freshClient();
    expect(await statuses([1, 2, 3, 4, 5].map(() => () => tokenCall(clientId)))).toEqual([400, 400, 400, 400, 400]);
  });

  it("uses the default tier (standard) when the policy sets none", async () => {
    await withLimits(undefined);
    const clientId = await freshClient();
    expect(await statuses([1, 2, 3, 4, 5].map(() => () => tokenCall(clientId)))).toEqual([400, 400, 400, 400, 400]);
  });

  it("limits introspection per client, counted apart from the token endpoint", async () => {
    await withLimits({ token: { per_client: "strict" }, introspection: { per_client: "strict" } });
    const clientId = await freshClient();
    const introspect = () =>
      exports.default.fetch(`${ISSUER}/oauth2/introspect`, {
        method: "POST",
        headers: { authorization: basic(clientId, SECRET), "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: "junk" }),
      });
    await statuses([1, 2, 3].map(() => () => tokenCall(clientId)));
    expect(await statuses([introspect, introspect, introspect])).toEqual([200, 200, 200]);
    const limited = await introspect();
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("60");
  });
});

describe("per source address", () => {
  it("limits the token endpoint per CF-Connecting-IP before anything is parsed", async () => {
    await withLimits({ token: { per_address: "strict", per_client: "off" } });
    const address = freshAddress();
    const junk = () => exports.default.fetch(TOKEN_URL, { method: "POST", headers: { "cf-connecting-ip": address, "content-type": "text/plain" }, body: "junk" });
    expect(await statuses([junk, junk, junk])).toEqual([400, 400, 400]);
    const limited = await junk();
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ error: "temporarily_unavailable" });
    // Another address, and a request with no address (local runs), are not affected.
    const other = freshAddress();
    expect((await exports.default.fetch(TOKEN_URL, { method: "POST", headers: { "cf-connecting-ip": other, "content-type": "text/plain" }, body: "junk" })).status).toBe(400);
    expect((await exports.default.fetch(TOKEN_URL, { method: "POST", headers: { "content-type": "text/plain" }, body: "junk" })).status).toBe(400);
  });

  it("limits webhooks per address with 429 and Retry-After", async () => {
    await withLimits({ webhooks: { per_address: "strict" } });
    const address = freshAddress();
    const hook = () => exports.default.fetch(`${ISSUER}/hooks/okta/test-idp`, { method: "POST", headers: { "cf-connecting-ip": address, "content-type": "application/json" }, body: "{}" });
    const first = await statuses([hook, hook, hook]);
    expect(first.every((s) => s !== 429)).toBe(true);
    const limited = await hook();
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("60");
    expect(await limited.json()).toMatchObject({ error: "too_many_requests" });
  });
});
