// config/policy-store.ts: the per-isolate policy snapshot, against a counting KV over the real one.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import policyExample from "../../../kv-schemas/policy.v1.example.json";
import { forgetPolicyForTests, loadPolicy } from "../../../workers/authorization-server/config/policy-store";
import { KV_KEYS } from "../../../workers/lib/kv-records";

const OWN_ISSUER = "https://auth.example.test";

afterEach(() => forgetPolicyForTests());

describe("loadPolicy", () => {
  it("shares one KV read among concurrent first requests of a cold isolate", async () => {
    await env.CONFIG.put(KV_KEYS.policy, JSON.stringify(policyExample));
    forgetPolicyForTests();
    let reads = 0;
    const kv = { get: (key: string, type: "text") => (reads++, env.CONFIG.get(key, type)) } as unknown as KVNamespace;
    const results = await Promise.all(Array.from({ length: 10 }, () => loadPolicy(kv, OWN_ISSUER, 1_800_000_000)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(reads).toBe(1);
  });
});
