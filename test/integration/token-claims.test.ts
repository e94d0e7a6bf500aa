// Spec notes §11 "Claims": required claims and types, audience, client binding, time, single use,
// resource binding, scope intersection, unsupported features, and revocation at the exchange.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { addressSubject } from "../../workers/authorization-server/revocation/shard-key";
import { captureAudit, expectRefusal, ISSUER, JWT_BEARER, OTHER_RESOURCE, RESOURCE, setupWorld, TOKEN_URL, type World } from "../support/world";

let world: World;
let audit: Map<string, Record<string, any>>;
beforeAll(async () => {
  world = await setupWorld();
  audit = captureAudit();
});

const now = () => Math.floor(Date.now() / 1000);
const redeem = async (overrides: Record<string, unknown>, extra: Record<string, string> = {}) =>
  world.exchange({ grant_type: JWT_BEARER, assertion: await world.assertion(overrides), ...extra });

describe("required claims and types", () => {
  it.each(["iss", "sub", "aud", "client_id", "jti", "exp", "iat"])("refuses an assertion without %s", async (claim) => {
    await expectRefusal(await redeem({ [claim]: undefined }), audit, { error: "invalid_grant", reason: "claim_missing" });
  });

  it.each([
    { name: "exp as a string", overrides: { exp: String(now() + 300) } },
    { name: "exp as a float", overrides: { exp: now() + 300.5 } },
    { name: "exp negative", overrides: { exp: -1 } },
    { name: "iat as a string", overrides: { iat: "now" } },
    { name: "aud as a number", overrides: { aud: 42 } },
    { name: "aud as an empty array", overrides: { aud: [] } },
    { name: "scope as an array", overrides: { scope: ["read"] } },
    { name: "client_id as a number", overrides: { client_id: 7 } },
    { name: "sub as an empty string", overrides: { sub: "" } },
    { name: "nbf as a string", overrides: { nbf: "soon" } },
    { name: "resource as a number", overrides: { resource: 1 } },
    { name: "act as a string", overrides: { act: "agent" } },
  ])("refuses $name", async ({ overrides }) => {
    await expectRefusal(await redeem(overrides), audit, { error: "invalid_grant", reason: "claim_type_invalid" });
  });

  it.each([
    { name: "an empty jti", jti: "" },
    { name: "a jti over 256 characters", jti: "j".repeat(257) },
  ])("refuses $name", async ({ jti }) => {
    await expectRefusal(await redeem({ jti }), audit, { error: "invalid_grant", reason: "jti_invalid" });
  });
  it("accepts a jti of exactly 256 characters", async () => {
    expect((await redeem({ jti: "j".repeat(255) + crypto.randomUUID().slice(0, 1) })).status).toBe(200);
  });
});

describe("audience and client binding", () => {
  it.each([
    { name: "the MCP resource URL (audience confusion)", aud: RESOURCE },
    { name: "our token endpoint URL", aud: TOKEN_URL },
    { name: "another authorization server at the same IdP", aud: "https://other-as.example.test" },
    { name: "our issuer with a trailing slash", aud: `${ISSUER}/` },
  ])("refuses aud = $name", async ({ aud }) => {
    await expectRefusal(await redeem({ aud }), audit, { error: "invalid_grant", reason: "aud_mismatch" });
  });

  it("refuses an aud array with our issuer and another value", async () => {
    await expectRefusal(await redeem({ aud: [ISSUER, "https://other"] }), audit, { error: "invalid_grant", reason: "aud_multiple" });
  });

  it("accepts a configured audience alias", async () => {
    await world.writePolicy({ ...world.policy, audience_aliases: [`${ISSUER}/`] });
    try {
      expect((await redeem({ aud: `${ISSUER}/` })).status).toBe(200);
    } finally {
      const { audience_aliases: _, ...rest } = world.policy;
      await world.writePolicy(rest);
    }
  });

  it.each([
    { name: "another registered client", client_id: "client-jwt" },
    { name: "the client's id at the IdP rather than at this server", client_id: "0oa-idp-side-id" },
  ])("refuses client_id = $name", async ({ client_id }) => {
    await expectRefusal(await redeem({ client_id }), audit, { error: "invalid_grant", reason: "client_id_mismatch" });
  });
});

describe("time", () => {
  it("refuses exp = now − 62 and accepts exp = now − 58 (60 s skew)", async () => {
    const t = now();
    await expectRefusal(await redeem({ iat: t - 200, exp: t - 62 }), audit, { error: "invalid_grant", reason: "expired" });
    expect((await redeem({ iat: t - 200, exp: t - 58 })).status).toBe(200);
  });

  it("refuses iat beyond the skew in the future", async () => {
    const t = now();
    await expectRefusal(await redeem({ iat: t + 63, exp: t + 300 }), audit, { error: "invalid_grant", reason: "issued_in_future" });
  });

  it("refuses nbf beyond the skew in the future", async () => {
    const t = now();
    await expectRefusal(await redeem({ nbf: t + 63 }), audit, { error: "invalid_grant", reason: "not_yet_valid" });
  });

  it("refuses exp − iat over the issuer's maximum, and an old iat with a still-valid exp", async () => {
    const t = now();
    await expectRefusal(await redeem({ iat: t, exp: t + 301 }), audit, { error: "invalid_grant", reason: "lifetime_too_long" });
    await expectRefusal(await redeem({ iat: t - 3600, exp: t + 60 }), audit, { error: "invalid_grant", reason: "lifetime_too_long" });
  });

  it.each([
    { max: 120, name: "a stricter" },
    { max: 600, name: "a looser" },
  ])("applies $name per-issuer max_assertion_lifetime_seconds ($max s): at the limit accepted, one second more refused", async ({ max }) => {
    const base = world.policy;
    await world.writePolicy({ ...base, issuers: base.issuers.map((i) => (i.id === "test-idp" ? { ...i, max_assertion_lifetime_seconds: max } : i)) });
    try {
      const t = now();
      expect((await redeem({ iat: t, exp: t + max })).status).toBe(200);
      await expectRefusal(await redeem({ iat: t, exp: t + max + 1 }), audit, { error: "invalid_grant", reason: "lifetime_too_long" });
    } finally {
      await world.writePolicy({ ...base, version: world.policy.version });
    }
  });

  it("answers an expired assertion the same for trusted and untrusted issuers", async () => {
    const t = now();
    const trusted = await redeem({ iat: t - 500, exp: t - 200 });
    const untrusted = await world.exchange({ grant_type: JWT_BEARER, assertion: await world.idp.sign(world.claims({ iss: "https://untrusted.example", iat: t - 500, exp: t - 200 })) });
    const [a, b] = [await trusted.json(), await untrusted.json()];
    expect(a).toEqual(b);
    expect(a).toMatchObject({ error: "invalid_grant", error_description: "The assertion has expired." });
  });
});

describe("single use", () => {
  it("redeems an ID-JAG once and refuses the second presentation", async () => {
    const assertion = await world.assertion();
    expect((await world.exchange({ grant_type: JWT_BEARER, assertion })).status).toBe(200);
    await expectRefusal(await world.exchange({ grant_type: JWT_BEARER, assertion }), audit, { error: "invalid_grant", reason: "replayed" });
  });

  it("gives exactly one token to eight concurrent redemptions of one ID-JAG", async () => {
    const assertion = await world.assertion();
    const results = await Promise.all(Array.from({ length: 8 }, () => world.exchange({ grant_type: JWT_BEARER, assertion })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 400, 400, 400, 400, 400, 400, 400]);
  });

  it("accepts the same jti from two different issuers", async () => {
    const jti = crypto.randomUUID();
    expect((await redeem({ jti })).status).toBe(200);
    const fromOther = await world.assertion({ jti }, { from: world.otherIdp, key: world.otherIdp.keys[0] });
    expect((await world.exchange({ grant_type: JWT_BEARER, assertion: fromOther })).status).toBe(200);
  });

  it("does not spend the jti when a later check refuses the assertion", async () => {
    const jti = crypto.randomUUID();
    await expectRefusal(await redeem({ jti }, { scope: "admin" }), audit, { error: "invalid_scope", reason: "scope_empty" });
    expect((await redeem({ jti })).status).toBe(200);
  });
});

describe("resource", () => {
  it("uses the claimed resource as the access token audience, and the issuer default when absent", async () => {
    const claimed = await (await redeem({ resource: RESOURCE })).json<{ resource: string }>();
    const defaulted = await (await redeem({ resource: undefined })).json<{ resource: string }>();
    expect([claimed.resource, defaulted.resource]).toEqual([RESOURCE, RESOURCE]);
  });

  it("accepts syntax variants of our resource: upper-case scheme and host, default port", async () => {
    expect((await redeem({ resource: "HTTPS://MCP.Example.TEST:443/mcp" })).status).toBe(200);
  });

  it.each([
    { name: "another MCP server's URI", resource: "https://elsewhere.example/mcp", reason: "resource_unknown" },
    { name: "a trailing-slash variant", resource: `${RESOURCE}/`, reason: "resource_unknown" },
    { name: "a relative URI", resource: "/mcp", reason: "resource_invalid" },
    { name: "a URI with a fragment", resource: `${RESOURCE}#frag`, reason: "resource_invalid" },
    { name: "an empty string", resource: "", reason: "resource_invalid" },
    { name: "an array with ours and a foreign value", resource: [RESOURCE, "https://elsewhere.example/mcp"], reason: "resource_unknown" },
  ])("refuses resource = $name", async ({ resource, reason }) => {
    await expectRefusal(await redeem({ resource }), audit, { error: "invalid_grant", reason });
  });

  it("refuses an absent resource when the issuer has no default", async () => {
    const assertion = await world.assertion({ resource: undefined }, { from: world.otherIdp, key: world.otherIdp.keys[0] });
    await expectRefusal(await world.exchange({ grant_type: JWT_BEARER, assertion }), audit, { error: "invalid_grant", reason: "resource_missing" });
  });

  it("refuses a token-request resource outside the ID-JAG's with invalid_target, and accepts one inside it", async () => {
    await expectRefusal(await redeem({}, { resource: OTHER_RESOURCE }), audit, { error: "invalid_target", reason: "target_not_in_grant" });
    expect((await redeem({}, { resource: RESOURCE })).status).toBe(200);
  });

  it("asks for the resource parameter when the ID-JAG names several resources, and honours it", async () => {
    const from = { from: world.otherIdp, key: world.otherIdp.keys[0] };
    const several = { resource: [RESOURCE, OTHER_RESOURCE] };
    const ambiguous = await world.exchange({ grant_type: JWT_BEARER, assertion: await world.assertion(several, from) });
    await expectRefusal(ambiguous, audit, { error: "invalid_target", reason: "resource_ambiguous" });
    const chosen = await world.exchange({ grant_type: JWT_BEARER, assertion: await world.assertion(several, from), resource: OTHER_RESOURCE });
    expect(await chosen.json()).toMatchObject({ resource: OTHER_RESOURCE });
  });
});

describe("scope", () => {
  const grantedScope = async (overrides: Record<string, unknown>, extra: Record<string, string> = {}) => {
    const res = await redeem(overrides, extra);
    return res.status === 200 ? (await res.json<{ scope: string }>()).scope : res.status;
  };

  it("grants policy ∩ ID-JAG scope: a scope the rule does not allow is left out", async () => {
    expect(await grantedScope({ scope: "read write admin" })).toBe("read write");
  });
  it("narrows to the requested scope", async () => {
    expect(await grantedScope({ scope: "read write" }, { scope: "read" })).toBe("read");
  });
  it("never grants a requested scope the ID-JAG lacks", async () => {
    expect(await grantedScope({ scope: "read" }, { scope: "read write" })).toBe("read");
  });
  it("filters scope names the resource does not define", async () => {
    expect(await grantedScope({ scope: "read delete:everything" })).toBe("read");
  });
  it("applies the resource's default scopes when the ID-JAG has none", async () => {
    expect(await grantedScope({ scope: undefined })).toBe("read");
  });
  it("refuses with invalid_grant when policy allows none of the assertion's scopes", async () => {
    await expectRefusal(await redeem({ scope: "admin" }), audit, { error: "invalid_grant", reason: "scope_not_granted" });
  });
  it("refuses with invalid_scope when the requested scope leaves nothing", async () => {
    await expectRefusal(await redeem({ scope: "read" }, { scope: "write" }), audit, { error: "invalid_scope", reason: "scope_empty" });
  });
  it.each([
    { name: "a quote", scope: 'read "write"' },
    { name: "a control character", scope: "read\u0001" },
    { name: "a backslash", scope: "read\\write" },
  ])("refuses an ID-JAG scope with $name", async ({ scope }) => {
    await expectRefusal(await redeem({ scope }), audit, { error: "invalid_grant", reason: "scope_malformed" });
  });
  it("refuses when no rule grants the issuer access to the resource", async () => {
    await expectRefusal(await redeem({ resource: OTHER_RESOURCE }, {}), audit, { error: "invalid_grant", reason: "no_rule_allows" });
  });
});

describe("claims that are not used for identity", () => {
  it("keys the user by sub alone: email and sub_id do not change who the token is for", async () => {
    const res = await redeem({ sub: "00u-okta-1", email: "ceo@other-company.example", email_verified: false, sub_id: { format: "email", email: "ceo@other-company.example" } });
    const { access_token } = await res.json<{ access_token: string }>();
    const payload = JSON.parse(atob(access_token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")));
    expect(payload.sub).toBe("00u-okta-1");
    expect(payload).not.toHaveProperty("email");
  });
});

describe("unsupported features fail closed", () => {
  it("refuses cnf (DPoP-bound) assertions", async () => {
    await expectRefusal(await redeem({ cnf: { jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" } }), audit, { error: "invalid_grant", reason: "cnf_unsupported" });
  });
  it("refuses authorization_details", async () => {
    await expectRefusal(await redeem({ authorization_details: [{ type: "x" }] }), audit, { error: "invalid_grant", reason: "authorization_details_unsupported" });
  });
});

describe("revocation at the exchange", () => {
  it("refuses an ID-JAG issued at or before the subject's revoked_before, and accepts a newer one", async () => {
    const t = now();
    const subject = { iss: world.idp.issuer, sub: "revoked-user" };
    const address = await addressSubject(subject);
    const shard = env.SUBJECT_SHARD.get(env.SUBJECT_SHARD.idFromName(address.shardName));
    await shard.revokeSubject(address.subjectKey, t - 10);
    await expectRefusal(await redeem({ sub: "revoked-user", iat: t - 10, exp: t + 200 }), audit, { error: "invalid_grant", reason: "subject_revoked" });
    expect((await redeem({ sub: "revoked-user", iat: t - 9, exp: t + 200 })).status).toBe(200);
    expect((await redeem({ sub: "someone-else", iat: t - 20, exp: t + 200 })).status).toBe(200);
  });
});
