// The JWKS cache inside workerd, against real KV and the loopback test IdP. Time moves by passing
// a later `now`; each test has its own issuer, so module memory and KV keys never collide.
import { env } from "cloudflare:workers";
import { compactVerify, exportJWK } from "jose";
import { describe, expect, it } from "vitest";
import {
  clearJwksMemoryForTests,
  resolveVerificationKey,
  type JwksDeps,
} from "../../workers/authorization-server/jwks/cache";
import { sha256Base64Url } from "../../workers/lib/digest";
import { checkRecord, KV_KEYS, type SignatureAlgorithm, type TrustedIssuer } from "../../workers/lib/kv-records";
import { createTestIdp, makeKey, type TestIdp, type TestKey } from "../support/test-idp";

const T0 = 1_800_000_000;
const COOLDOWN = 30;
const MAX_STALE = 86_400;

interface Harness {
  idp: TestIdp;
  issuer: TrustedIssuer;
  /** Calls this test made on KV and on the network, through `resolve`. */
  calls: { kvGets: number; urls: string[] };
  resolve(kid: string | undefined, now: number, alg?: SignatureAlgorithm): ReturnType<typeof resolveVerificationKey>;
  jwksFetches(): Promise<number>;
}

async function setUp(options: { cacheControl?: string; issuer?: Partial<TrustedIssuer> } = {}): Promise<Harness> {
  const idp = await createTestIdp(options.cacheControl === undefined ? {} : { cacheControl: options.cacheControl });
  const issuer: TrustedIssuer = { id: idp.id, issuer: idp.issuer, jwks_uri: idp.jwksUri, ...options.issuer };
  const calls = { kvGets: 0, urls: [] as string[] };
  const kv = {
    get: (key: string, type: "json") => (calls.kvGets++, env.CONFIG.get(key, type)),
    put: (key: string, value: string, opts: KVNamespacePutOptions) => env.CONFIG.put(key, value, opts),
  } as unknown as KVNamespace;
  const recordingFetch = ((input: RequestInfo | URL, init?: RequestInit) => {
    calls.urls.push(String(input));
    return fetch(input, init);
  }) as typeof fetch;
  const deps = (now: number): JwksDeps => ({ kv, fetch: recordingFetch, now, timeoutMs: 300 });
  return {
    idp,
    issuer,
    calls,
    resolve: (kid, now, alg) => {
      const keyAlg = alg ?? idp.keys.find((k) => k.kid === kid)?.alg ?? "RS256";
      return resolveVerificationKey(issuer, kid === undefined ? { alg: keyAlg } : { alg: keyAlg, kid }, deps(now));
    },
    jwksFetches: async () => (await idp.stats()).jwksFetches,
  };
}

async function expectVerifies(result: Awaited<ReturnType<typeof resolveVerificationKey>>, idp: TestIdp, key: TestKey) {
  if (!result.ok) throw new Error(`expected a key, got ${JSON.stringify(result.error)}`);
  const token = await idp.sign({ sub: "u1" }, { key });
  await expect(compactVerify(token, result.value)).resolves.toBeTruthy();
}

const kvKeyOf = async (issuer: string) => KV_KEYS.jwks(await sha256Base64Url(issuer));
const randomKid = () => crypto.randomUUID();

describe("tiers", () => {
  it("answers a fresh memory hit with no KV read and no IdP fetch", async () => {
    const h = await setUp();
    await expectVerifies(await h.resolve("rsa-1", T0), h.idp, h.idp.keys[0]!);
    const kvGetsAfterFirst = h.calls.kvGets;
    await expectVerifies(await h.resolve("rsa-1", T0 + 10), h.idp, h.idp.keys[0]!);
    await expectVerifies(await h.resolve("ec-1", T0 + 20), h.idp, h.idp.keys[1]!);
    expect(h.calls.kvGets).toBe(kvGetsAfterFirst);
    expect(await h.jwksFetches()).toBe(1);
  });

  it("uses the KV copy in a new isolate without calling the IdP", async () => {
    const h = await setUp();
    await h.resolve("rsa-1", T0);
    clearJwksMemoryForTests();
    await expectVerifies(await h.resolve("rsa-1", T0 + 10), h.idp, h.idp.keys[0]!);
    expect(await h.jwksFetches()).toBe(1);
  });

  it("writes a KV record that validates against kv-schemas/jwks.v1 and lives until the max-stale bound", async () => {
    const h = await setUp();
    await h.resolve("rsa-1", T0);
    const key = await kvKeyOf(h.issuer.issuer);
    const stored = checkRecord("jwks", await env.CONFIG.get(key, "json"));
    expect(stored.ok).toBe(true);
    expect(stored.ok && stored.value).toMatchObject({ issuer: h.issuer.issuer, jwks_uri: h.idp.jwksUri, fetched_at: T0, fresh_until: T0 + 600 });
    const listed = await env.CONFIG.list({ prefix: key });
    const ttl = listed.keys[0]!.expiration! - Date.now() / 1000;
    expect(Math.abs(ttl - MAX_STALE)).toBeLessThan(300);
  });

  it("ignores a KV record that fails the schema, and replaces it with the IdP's set", async () => {
    const h = await setUp();
    const attacker = await makeKey("RS256", "rsa-1");
    const key = await kvKeyOf(h.issuer.issuer);
    const forged = { issuer: h.issuer.issuer, jwks_uri: h.idp.jwksUri, fetched_at: T0, fresh_until: T0 + 600, jwks: { keys: [attacker.publicJwk] }, note: "x" };
    await env.CONFIG.put(key, JSON.stringify(forged));
    await expectVerifies(await h.resolve("rsa-1", T0 + 1), h.idp, h.idp.keys[0]!);
    expect(await h.jwksFetches()).toBe(1);
    expect(checkRecord("jwks", await env.CONFIG.get(key, "json")).ok).toBe(true);
  });

  it("ignores a KV record that names another issuer", async () => {
    const h = await setUp();
    const attacker = await makeKey("RS256", "rsa-1");
    const misfiled = { issuer: "https://other.example", jwks_uri: h.idp.jwksUri, fetched_at: T0, fresh_until: T0 + 600, jwks: { keys: [attacker.publicJwk] } };
    expect(checkRecord("jwks", misfiled).ok).toBe(true);
    await env.CONFIG.put(await kvKeyOf(h.issuer.issuer), JSON.stringify(misfiled));
    await expectVerifies(await h.resolve("rsa-1", T0 + 1), h.idp, h.idp.keys[0]!);
    expect(await h.jwksFetches()).toBe(1);
  });

  it("drops a cached set fetched from a jwks_uri the policy no longer names", async () => {
    const h = await setUp();
    await h.resolve("rsa-1", T0);
    const moved = await createTestIdp();
    const issuer = { ...h.issuer, jwks_uri: moved.jwksUri };
    const deps: JwksDeps = { kv: env.CONFIG, fetch, now: T0 + 10 };
    await expectVerifies(await resolveVerificationKey(issuer, { alg: "RS256", kid: "rsa-1" }, deps), moved, moved.keys[0]!);
    expect((await moved.stats()).jwksFetches).toBe(1);
  });
});

describe("freshness from Cache-Control", () => {
  it.each([
    ["max-age=5", 60],
    ["max-age=86400", 3600],
    ["no-store", 600],
    [undefined, 600],
  ])("keeps a set served with %s fresh for exactly %d s", async (cacheControl, seconds) => {
    const h = await setUp(cacheControl === undefined ? {} : { cacheControl });
    await h.resolve("rsa-1", T0);
    await h.resolve("rsa-1", T0 + seconds - 1);
    expect(await h.jwksFetches()).toBe(1);
    await h.resolve("rsa-1", T0 + seconds);
    expect(await h.jwksFetches()).toBe(2);
  });
});

describe("unknown kid and rotation", () => {
  it("refetches once for an unknown kid after the cool-down, then refuses it as kid_unknown", async () => {
    const h = await setUp();
    await h.resolve("rsa-1", T0);
    expect(await h.resolve("nope", T0 + COOLDOWN)).toEqual({ ok: false, error: { reason: "kid_unknown", kid: "nope" } });
    expect(await h.jwksFetches()).toBe(2);
    expect(await h.resolve("nope", T0 + COOLDOWN + 1)).toMatchObject({ ok: false, error: { reason: "kid_unknown" } });
    expect(await h.jwksFetches()).toBe(2);
  });

  it("makes no second IdP fetch for a flood of random kids within the cool-down", async () => {
    const h = await setUp();
    await h.resolve("rsa-1", T0);
    for (let i = 0; i < 60; i++) await h.resolve(randomKid(), T0 + (i % COOLDOWN));
    expect(await h.jwksFetches()).toBe(1);
    for (let i = 0; i < 60; i++) await h.resolve(randomKid(), T0 + COOLDOWN + (i % COOLDOWN));
    expect(await h.jwksFetches()).toBe(2);
    expect(h.calls.kvGets).toBeLessThanOrEqual(2);
  });

  it("shares one refetch among concurrent misses in one isolate", async () => {
    const h = await setUp();
    await h.resolve("rsa-1", T0);
    await Promise.all(Array.from({ length: 20 }, () => h.resolve(randomKid(), T0 + COOLDOWN)));
    expect(await h.jwksFetches()).toBe(2);
  });

  it("shares one IdP fetch among concurrent first requests when nothing is cached yet", async () => {
    const h = await setUp();
    const results = await Promise.all(Array.from({ length: 12 }, () => h.resolve("rsa-1", T0)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(await h.jwksFetches()).toBe(1);
  });

  it("shares one refresh of an expired set among concurrent requests in one isolate", async () => {
    const h = await setUp();
    await h.resolve("rsa-1", T0);
    const results = await Promise.all(Array.from({ length: 10 }, () => h.resolve("rsa-1", T0 + 600)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(await h.jwksFetches()).toBe(2);
  });

  it("takes a set another isolate fetched within the cool-down from KV instead of calling the IdP", async () => {
    const h = await setUp();
    await h.resolve("rsa-1", T0);
    clearJwksMemoryForTests(); // a second isolate misses a kid at T0 + 40, refetches and shares the set
    await h.resolve(randomKid(), T0 + 40);
    expect(await h.jwksFetches()).toBe(2);
    clearJwksMemoryForTests(); // a third isolate misses a kid at T0 + 50: the KV copy is 10 s old
    expect(await h.resolve(randomKid(), T0 + 50)).toMatchObject({ ok: false, error: { reason: "kid_unknown" } });
    expect(await h.jwksFetches()).toBe(2);
  });

  it("accepts a new kid after the IdP rotates, and refuses the removed one", async () => {
    const h = await setUp();
    await expectVerifies(await h.resolve("rsa-1", T0), h.idp, h.idp.keys[0]!);
    const next = await makeKey("RS256", "rsa-2");
    await h.idp.publish([next]);
    await expectVerifies(await h.resolve("rsa-2", T0 + COOLDOWN), h.idp, next);
    expect(await h.resolve("rsa-1", T0 + COOLDOWN + 1, "RS256")).toMatchObject({ ok: false, error: { reason: "kid_unknown" } });
    expect(await h.jwksFetches()).toBe(2);
  });

  it("answers key_ambiguous without a kid when several keys fit, without refetching", async () => {
    const h = await setUp();
    await h.idp.publish([await makeKey("RS256", "a"), await makeKey("RS256", "b")]);
    expect(await h.resolve(undefined, T0, "RS256")).toEqual({ ok: false, error: { reason: "key_ambiguous" } });
    expect(await h.resolve(undefined, T0 + COOLDOWN, "RS256")).toEqual({ ok: false, error: { reason: "key_ambiguous" } });
    expect(await h.jwksFetches()).toBe(1);
  });
});

describe("IdP failures", () => {
  it.each(["status_500", "hang", "trickle", "garbage", "oversized"] as const)("serves the stale set while the IdP answers %s", async (mode) => {
    const h = await setUp();
    await h.resolve("rsa-1", T0);
    await h.idp.setMode(mode);
    await expectVerifies(await h.resolve("rsa-1", T0 + 601), h.idp, h.idp.keys[0]!);
    await expectVerifies(await h.resolve("rsa-1", T0 + 601 + COOLDOWN - 1), h.idp, h.idp.keys[0]!);
    expect(await h.jwksFetches()).toBe(2); // the failed IdP is not asked again within the cool-down
  });

  it("serves a stale KV copy in a new isolate while the IdP is down", async () => {
    const h = await setUp();
    await h.resolve("rsa-1", T0);
    clearJwksMemoryForTests();
    await h.idp.setMode("status_500");
    await expectVerifies(await h.resolve("rsa-1", T0 + 601), h.idp, h.idp.keys[0]!);
  });

  it("refuses with jwks_unavailable once the cached set is past 24 h of max-stale", async () => {
    const h = await setUp();
    await h.resolve("rsa-1", T0);
    await h.idp.setMode("status_500");
    expect((await h.resolve("rsa-1", T0 + MAX_STALE)).ok).toBe(true);
    expect(await h.resolve("rsa-1", T0 + MAX_STALE + 1)).toMatchObject({ ok: false, error: { reason: "jwks_unavailable" } });
    clearJwksMemoryForTests(); // the KV copy is just as expired
    expect(await h.resolve("rsa-1", T0 + MAX_STALE + 1)).toMatchObject({ ok: false, error: { reason: "jwks_unavailable" } });
  });

  it("fails closed with jwks_unavailable when the IdP is down and nothing is cached", async () => {
    const h = await setUp();
    await h.idp.setMode("hang");
    expect(await h.resolve("rsa-1", T0)).toEqual({
      ok: false,
      error: { reason: "jwks_unavailable", detail: "no cached keys; jwks timed out" },
    });
  });

  it("does not call a failed IdP again within the cool-down", async () => {
    const h = await setUp();
    await h.idp.setMode("status_500");
    await h.resolve("rsa-1", T0);
    await h.idp.setMode("ok");
    expect(await h.resolve("rsa-1", T0 + COOLDOWN - 1)).toMatchObject({ ok: false, error: { reason: "jwks_unavailable" } });
    expect(await h.jwksFetches()).toBe(1);
    expect((await h.resolve("rsa-1", T0 + COOLDOWN)).ok).toBe(true);
  });

  it("refuses a jwks_uri that redirects, without following it", async () => {
    const h = await setUp();
    const elsewhere = await createTestIdp();
    await h.idp.setMode("redirect", { location: elsewhere.jwksUri });
    expect(await h.resolve("rsa-1", T0)).toMatchObject({ ok: false, error: { reason: "jwks_unavailable" } });
    expect((await elsewhere.stats()).jwksFetches).toBe(0);
  });
});

describe("what counts as a key", () => {
  it("drops published keys that carry private members", async () => {
    const h = await setUp();
    const leaky = await makeKey("RS256", "leaky");
    const privateJwk = { ...(await exportJWK(leaky.privateKey)), kid: "leaky", alg: "RS256", use: "sig" } as TestKey["publicJwk"];
    await h.idp.publish([h.idp.keys[0]!, { ...leaky, publicJwk: privateJwk }]);
    expect(await h.resolve("leaky", T0, "RS256")).toMatchObject({ ok: false, error: { reason: "kid_unknown" } });
    await expectVerifies(await h.resolve("rsa-1", T0), h.idp, h.idp.keys[0]!);
    const stored = JSON.stringify(await env.CONFIG.get(await kvKeyOf(h.issuer.issuer), "json"));
    expect(stored).not.toContain('"d"');
  });

  it("never verifies with a key marked use: enc", async () => {
    const h = await setUp();
    const enc = await makeKey("RS256", "enc-1");
    await h.idp.publish([{ ...enc, publicJwk: { ...enc.publicJwk, use: "enc" } }]);
    expect(await h.resolve("enc-1", T0)).toEqual({ ok: false, error: { reason: "kid_unknown", kid: "enc-1" } });
  });

  it("counts a key WebCrypto cannot import as unknown, without throwing", async () => {
    const h = await setUp();
    const broken = await makeKey("ES256", "broken");
    const zero = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"; // (0, 0) is not on P-256
    await h.idp.publish([{ ...broken, publicJwk: { ...broken.publicJwk, x: zero, y: zero } }]);
    expect(await h.resolve("broken", T0)).toEqual({ ok: false, error: { reason: "kid_unknown", kid: "broken" } });
  });
});

describe("where keys may come from", () => {
  it("discovers jwks_uri from the issuer's RFC 8414 metadata when the policy names none", async () => {
    const h = await setUp({ issuer: { jwks_uri: undefined } });
    await expectVerifies(await h.resolve("rsa-1", T0), h.idp, h.idp.keys[0]!);
    const origin = new URL(h.idp.issuer).origin;
    expect(h.calls.urls).toEqual([`${origin}/.well-known/oauth-authorization-server/${h.idp.id}`, h.idp.jwksUri]);
  });

  it("refuses discovered metadata whose issuer differs from the configured one", async () => {
    const h = await setUp({ issuer: { jwks_uri: undefined } });
    await h.idp.setMetadata({ issuer: `${h.idp.issuer}/`, jwks_uri: h.idp.jwksUri });
    expect(await h.resolve("rsa-1", T0)).toMatchObject({ ok: false, error: { reason: "jwks_unavailable" } });
    expect(await h.jwksFetches()).toBe(0);
  });

  it("refuses an http jwks_uri on a non-loopback host without fetching it", async () => {
    const h = await setUp({ issuer: { jwks_uri: "http://idp.example.test/jwks" } });
    expect(await h.resolve("rsa-1", T0)).toMatchObject({ ok: false, error: { reason: "jwks_unavailable" } });
    expect(h.calls.urls).toEqual([]);
  });

  it("refuses a discovered http jwks_uri on a non-loopback host without fetching it", async () => {
    const h = await setUp({ issuer: { jwks_uri: undefined } });
    await h.idp.setMetadata({ issuer: h.idp.issuer, jwks_uri: "http://idp.example.test/jwks" });
    expect(await h.resolve("rsa-1", T0)).toMatchObject({ ok: false, error: { reason: "jwks_unavailable" } });
    expect(h.calls.urls.some((u) => u.includes("idp.example.test"))).toBe(false);
  });
});

describe("sharing a fetched set", () => {
  it("answers before the KV write completes when given waitUntil, and hands that write to it", async () => {
    const idp = await createTestIdp();
    const issuer: TrustedIssuer = { id: idp.id, issuer: idp.issuer, jwks_uri: idp.jwksUri };
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const puts: string[] = [];
    const kv = {
      get: (key: string, type: "json") => env.CONFIG.get(key, type),
      put: async (key: string, value: string, opts: KVNamespacePutOptions) => {
        await held; // a slow KV write: the token request must not wait for it
        puts.push(key);
        return env.CONFIG.put(key, value, opts);
      },
    } as unknown as KVNamespace;
    const background: Promise<unknown>[] = [];
    const result = await resolveVerificationKey(issuer, { alg: "RS256", kid: "rsa-1" }, { kv, fetch, now: T0, timeoutMs: 300, waitUntil: (p) => void background.push(p) });
    await expectVerifies(result, idp, idp.keys[0]!);
    expect(background).toHaveLength(1);
    expect(puts).toEqual([]);
    release();
    await Promise.all(background);
    expect(puts).toEqual([await kvKeyOf(idp.issuer)]);
  });
});
