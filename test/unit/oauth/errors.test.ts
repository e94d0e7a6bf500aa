import { describe, expect, it } from "vitest";
import { isPublicReason, oauthErrorResponse, REASONS } from "../../../workers/authorization-server/oauth/errors";
import type { Reason } from "../../../workers/authorization-server/oauth/refusal";

// Pinned so that making a reason public is a deliberate, reviewed change (design.md "Errors").
const GENERIC: Reason[] = [
  "unsupported_grant_type",
  "client_auth_missing",
  "client_auth_malformed",
  "client_unknown",
  "client_disabled",
  "client_secret_mismatch",
  "client_auth_method_not_allowed",
  "client_assertion_invalid",
  "client_assertion_replayed",
  "client_not_authorized_for_grant",
  "client_resource_not_allowed",
  "issuer_not_trusted",
  "issuer_is_self",
  "alg_not_allowed_for_issuer",
  "tenant_mismatch",
  "kid_unknown",
  "key_ambiguous",
  "signature_invalid",
  "jwks_unavailable",
  "state_unavailable",
  "config_unavailable",
];

describe("the reason → wire error table", () => {
  it("keeps client-authentication and issuer-trust reasons generic, and only those", () => {
    const generic = (Object.keys(REASONS) as Reason[]).filter((r) => !isPublicReason(r));
    expect(generic.sort()).toEqual([...GENERIC].sort());
  });

  it("answers every client-authentication failure 401 with the same body", async () => {
    const clientReasons = (Object.keys(REASONS) as Reason[]).filter((r) => REASONS[r].error === "invalid_client");
    const bodies = await Promise.all(clientReasons.map((reason) => oauthErrorResponse({ reason } as never).json()));
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    for (const reason of clientReasons) expect(REASONS[reason].status).toBe(401);
  });

  it("adds WWW-Authenticate to 401s, Allow to 405, Retry-After to 503, no-store to all", () => {
    const r401 = oauthErrorResponse({ reason: "client_secret_mismatch" });
    expect(r401.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
    expect(oauthErrorResponse({ reason: "method_not_allowed", method: "GET" }).headers.get("allow")).toBe("POST");
    expect(oauthErrorResponse({ reason: "state_unavailable", detail: "x" }).headers.get("retry-after")).toBe("5");
    expect(oauthErrorResponse({ reason: "expired", exp: 1, now: 2, skewSeconds: 0 }).headers.get("cache-control")).toBe("no-store");
  });

  it("never puts refusal detail on the wire", async () => {
    const body = await oauthErrorResponse({ reason: "jwks_unavailable", detail: "https://idp.internal/keys status 500" }).text();
    expect(body).not.toContain("idp.internal");
  });
});
