// Group policy at the token endpoint, and a pushed policy change reaching the next exchange without
// a restart (the same publishing code the CLI runs, against the real KV binding).
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { forgetPolicyForTests, POLICY_REFRESH_SECONDS } from "../../workers/authorization-server/config/policy-store";
import { kvStoreFrom } from "../../workers/lib/kv-store";
import type { PolicySource } from "../../workers/lib/policy-file";
import { publishPolicy, rollbackPolicy } from "../../workers/lib/policy-publish";
import { captureAudit, expectRefusal, JWT_BEARER, RESOURCE, rule, setupWorld, type World } from "../support/world";

let world: World;
let audit: Map<string, Record<string, any>>;
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  world = await setupWorld();
  audit = captureAudit();
  await world.writePolicy({
    ...world.policy,
    resources: [
      {
        resource: RESOURCE,
        name: "Test MCP",
        scopes: [{ name: "read" }, { name: "write", sensitive: true, conditions: { amr_any_of: ["mfa"], max_auth_age_seconds: 600 } }],
      },
    ],
    rules: [
      rule({ id: "eng", issuers: ["test-idp"], groups: ["engineering"], resources: [RESOURCE], scopes: ["read", "write"] }),
      rule({ id: "sales", issuers: ["test-idp"], groups: ["sales"], resources: [RESOURCE], scopes: ["read"] }),
    ],
  });
});

const exchange = async (claims: Record<string, unknown>) => world.exchange({ grant_type: JWT_BEARER, assertion: await world.assertion(claims) });
const scopeOf = async (claims: Record<string, unknown>) => {
  const res = await exchange(claims);
  return res.status === 200 ? (await res.json<{ scope: string }>()).scope : res.status;
};

describe("group policy at the token endpoint", () => {
  it("grants an engineer with fresh MFA read and write", async () => {
    expect(await scopeOf({ groups: ["engineering"], amr: ["mfa"], auth_time: now() - 10 })).toBe("read write");
  });

  it("leaves out a sensitive scope whose step-up fails, and says which condition in the audit event", async () => {
    const res = await exchange({ groups: ["engineering"], amr: ["pwd"], auth_time: now() - 10 });
    const body = await res.json<{ scope: string }>();
    expect(body.scope).toBe("read");
    const event = audit.get(res.headers.get("x-request-id")!);
    expect(event).toMatchObject({ decision: "granted", rules: ["eng"], dropped_scopes: [{ scope: "write", condition: "amr_any_of" }] });
    expect(event!.policy_sha256).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("refuses when only a sensitive scope was asked for and its condition fails", async () => {
    const res = await world.exchange({ grant_type: JWT_BEARER, assertion: await world.assertion({ groups: ["engineering"], amr: ["mfa"], auth_time: now() - 3600 }), scope: "write" });
    await expectRefusal(res, audit, { error: "invalid_scope", reason: "scope_empty" });
  });

  it("gives sales read only, and refuses someone in no group", async () => {
    expect(await scopeOf({ groups: ["sales"], amr: ["mfa"], auth_time: now() })).toBe("read");
    await expectRefusal(await exchange({ groups: ["design"] }), audit, { error: "invalid_grant", reason: "no_rule_allows" });
    await expectRefusal(await exchange({ groups: undefined }), audit, { error: "invalid_grant", reason: "no_rule_allows" });
  });

  it("refuses a groups claim of the wrong type rather than reading it as no groups", async () => {
    await expectRefusal(await exchange({ groups: "engineering" }), audit, { error: "invalid_grant", reason: "claim_type_invalid" });
  });

  it("reads groups from the issuer's configured claim", async () => {
    await world.writePolicy({ ...world.policy, issuers: world.policy.issuers.map((i) => (i.id === "test-idp" ? { ...i, groups_claim: "roles" } : i)) });
    try {
      expect(await scopeOf({ roles: ["sales"], groups: ["engineering"] })).toBe("read");
    } finally {
      await world.writePolicy({ ...world.policy, issuers: world.policy.issuers.map(({ groups_claim: _, ...i }) => i) });
    }
  });
});

describe("policy rollout", () => {
  it("applies a pushed change to the next exchange once the refresh interval has passed, with no restart, and a rollback undoes it", async () => {
    const kv = kvStoreFrom(env.CONFIG);
    const ctx = { at: new Date().toISOString(), by: "test" };
    const { version: _v, ...source } = world.policy;
    const salesGetWrite: PolicySource = { ...source, rules: source.rules.map((r) => (r.id === "sales" ? { ...r, scopes: ["read", "write"] } : r)) };
    const claims = { groups: ["sales"], amr: ["mfa"], auth_time: now() };

    expect(await scopeOf(claims)).toBe("read");
    const pushed = await publishPolicy(kv, salesGetWrite, ctx);
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + (POLICY_REFRESH_SECONDS + 1) * 1000 });
    try {
      const res = await exchange({ ...claims, auth_time: now() });
      expect((await res.json<{ scope: string }>()).scope).toBe("read write");
      expect(audit.get(res.headers.get("x-request-id")!)?.policy_version).toBe(pushed.version);

      await rollbackPolicy(kv, ctx);
      vi.setSystemTime(Date.now() + (POLICY_REFRESH_SECONDS + 1) * 1000);
      expect(await scopeOf({ ...claims, auth_time: now() })).toBe("read");
    } finally {
      vi.useRealTimers();
    }
  });

  it("notices an edited document even when its version number did not change", async () => {
    const current = JSON.parse((await env.CONFIG.get("policy:v1"))!);
    const withoutSales = { ...current, rules: current.rules.filter((r: { id: string }) => r.id !== "sales") };
    await env.CONFIG.put("policy:v1", JSON.stringify(withoutSales)); // same version, no cache reset
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 5 * (POLICY_REFRESH_SECONDS + 1) * 1000 });
    try {
      await expectRefusal(await exchange({ groups: ["sales"], iat: now(), exp: now() + 300 }), audit, { error: "invalid_grant", reason: "no_rule_allows" });
    } finally {
      vi.useRealTimers();
      await env.CONFIG.put("policy:v1", JSON.stringify(current));
      forgetPolicyForTests();
    }
  });

  it("keeps serving the last good policy when KV holds a broken document", async () => {
    expect(await scopeOf({ groups: ["sales"], auth_time: now() })).toBe("read"); // the last good one, loaded
    await env.CONFIG.put("policy:v1", "{not json");
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 10 * (POLICY_REFRESH_SECONDS + 1) * 1000 });
    try {
      expect(await scopeOf({ groups: ["sales"], auth_time: now(), iat: now(), exp: now() + 300 })).toBe("read");
    } finally {
      vi.useRealTimers();
    }
  });
});
