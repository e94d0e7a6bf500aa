// The admin API: a manual revocation goes through the same path as the IdP's signals.
import { env, exports } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../workers/authorization-server/index";
import { captureAudit, expectRefusal, ISSUER, JWT_BEARER, setupWorld, type World } from "../support/world";

let world: World;
let audit: Map<string, Record<string, any>>;
beforeAll(async () => {
  world = await setupWorld();
  audit = captureAudit();
});

const revoke = (body: unknown, token = "test-admin-token-0123456789abcdef0123456789") =>
  exports.default.fetch(`${ISSUER}/admin/revocations`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

describe("POST /admin/revocations", () => {
  it("revokes a subject: the next exchange of an earlier ID-JAG is refused", async () => {
    const t = Math.floor(Date.now() / 1000);
    const assertion = await world.assertion({ sub: "leaver", iat: t - 1, exp: t + 200 });
    const res = await revoke({ iss: world.idp.issuer, sub: "leaver", reason: "offboarding" });
    expect(res.status).toBe(200);
    expect((await res.json<{ revoked_before: number }>()).revoked_before).toBeGreaterThanOrEqual(t);
    expect(audit.get(res.headers.get("x-request-id")!)).toMatchObject({ type: "ema.revocation", channel: "admin", event_type: "offboarding", sub: "leaver" });
    await expectRefusal(await world.exchange({ grant_type: JWT_BEARER, assertion }), audit, { error: "invalid_grant", reason: "subject_revoked" });
  });

  it("refuses a wrong token with 401, and bad bodies or untrusted issuers with 400", async () => {
    expect((await revoke({ iss: world.idp.issuer, sub: "x" }, "wrong")).status).toBe(401);
    expect((await revoke("{not json")).status).toBe(400);
    expect((await revoke({ iss: world.idp.issuer })).status).toBe(400);
    expect((await revoke({ iss: "https://typo.example", sub: "x" })).status).toBe(400);
  });

  it("does not exist when no ADMIN_TOKEN is configured", async () => {
    const { ADMIN_TOKEN: _, ...noAdmin } = env;
    const res = await worker.fetch(new Request(`${ISSUER}/admin/revocations`, { method: "POST" }) as Parameters<typeof worker.fetch>[0], noAdmin as typeof env, createExecutionContext());
    expect(res.status).toBe(404);
  });

  it("does not exist when ADMIN_TOKEN is shorter than 32 characters, even for the right bearer", async () => {
    const weak = "a-31-character-admin-password!!";
    expect(weak).toHaveLength(31);
    const request = new Request(`${ISSUER}/admin/revocations`, { method: "POST", headers: { authorization: `Bearer ${weak}`, "content-type": "application/json" }, body: JSON.stringify({ iss: world.idp.issuer, sub: "weak-token-subject" }) });
    const res = await worker.fetch(request as Parameters<typeof worker.fetch>[0], { ...env, ADMIN_TOKEN: weak }, createExecutionContext());
    expect(res.status).toBe(404);
  });

  it("is limited per source address like the webhooks", async () => {
    await world.writePolicy({ ...world.policy, version: world.policy.version + 1, rate_limits: { webhooks: { per_address: "strict" } } });
    const call = () => exports.default.fetch(`${ISSUER}/admin/revocations`, { method: "POST", headers: { "cf-connecting-ip": "192.0.2.77", authorization: "Bearer wrong" } });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call()).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
  });
});
