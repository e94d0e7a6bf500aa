import { describe, expect, it } from "vitest";
import { checkAudience, checkClientBinding, checkLifetime, checkValidityWindow, readIdJagClaims, type IdJagClaims } from "../../../workers/authorization-server/assertion/claims";

const NOW = 1_800_000_000;
const valid = (overrides: Record<string, unknown> = {}): Record<string, unknown> => {
  const base: Record<string, unknown> = { iss: "https://idp.example", sub: "u1", aud: "https://as.example", client_id: "c1", jti: "j1", iat: NOW, exp: NOW + 300 };
  for (const [k, v] of Object.entries(overrides)) v === undefined ? delete base[k] : (base[k] = v);
  return base;
};
const claims = (overrides: Record<string, unknown> = {}) => {
  const r = readIdJagClaims(valid(overrides));
  if (!r.ok) throw new Error(r.error.reason);
  return r.value;
};
const reasonOf = (r: { ok: boolean; error?: { reason: string } }) => (r.ok ? "ok" : r.error!.reason);

describe("readIdJagClaims", () => {
  it("reads a one-element aud array as its element and keeps optional claims", () => {
    const c = claims({ aud: ["https://as.example"], act: { sub: "agent" }, tenant: "t", scope: "a b", nbf: NOW, auth_time: NOW - 5 });
    expect(c).toMatchObject({ aud: "https://as.example", act: { sub: "agent" }, tenant: "t", scope: "a b", nbf: NOW, auth_time: NOW - 5 });
  });

  it.each([
    { name: "null iss", change: { iss: null }, reason: "claim_missing" },
    { name: "exp 1.5", change: { exp: 1.5 }, reason: "claim_type_invalid" },
    { name: "exp beyond a safe integer", change: { exp: 2 ** 60 }, reason: "claim_type_invalid" },
    { name: "auth_time as a string", change: { auth_time: "x" }, reason: "claim_type_invalid" },
    { name: "tenant as a number", change: { tenant: 1 }, reason: "claim_type_invalid" },
    { name: "an empty resource array", change: { resource: [] }, reason: "claim_type_invalid" },
    { name: "a resource array with a number", change: { resource: ["https://a", 1] }, reason: "claim_type_invalid" },
    { name: "act as an array", change: { act: [] }, reason: "claim_type_invalid" },
    { name: "act as null", change: { act: null }, reason: "claim_type_invalid" },
    { name: "aud array with an empty string", change: { aud: [""] }, reason: "claim_type_invalid" },
    { name: "jti as a number", change: { jti: 5 }, reason: "claim_type_invalid" },
    { name: "cnf", change: { cnf: {} }, reason: "cnf_unsupported" },
    { name: "authorization_details", change: { authorization_details: [] }, reason: "authorization_details_unsupported" },
  ])("refuses $name", ({ change, reason }) => {
    expect(reasonOf(readIdJagClaims(valid(change)))).toBe(reason);
  });

  it("accepts a jti of 256 characters and refuses 257", () => {
    expect(reasonOf(readIdJagClaims(valid({ jti: "x".repeat(256) })))).toBe("ok");
    expect(reasonOf(readIdJagClaims(valid({ jti: "x".repeat(257) })))).toBe("jti_invalid");
  });
});

describe("checkValidityWindow (60 s skew)", () => {
  it.each([
    { name: "exp = now − 61", change: { exp: NOW - 61, iat: NOW - 200 }, reason: "expired" },
    { name: "exp = now − 60", change: { exp: NOW - 60, iat: NOW - 200 }, reason: "ok" },
    { name: "exp = now − 59", change: { exp: NOW - 59, iat: NOW - 200 }, reason: "ok" },
    { name: "iat = now + 61", change: { iat: NOW + 61, exp: NOW + 200 }, reason: "issued_in_future" },
    { name: "iat = now + 60", change: { iat: NOW + 60, exp: NOW + 200 }, reason: "ok" },
    { name: "nbf = now + 61", change: { nbf: NOW + 61 }, reason: "not_yet_valid" },
    { name: "nbf = now + 60", change: { nbf: NOW + 60 }, reason: "ok" },
  ])("$name → $reason", ({ change, reason }) => {
    expect(reasonOf(checkValidityWindow(claims(change), NOW))).toBe(reason);
  });
});

describe("checkLifetime", () => {
  it("accepts exp − iat at the maximum and refuses one second more", () => {
    expect(reasonOf(checkLifetime(claims({ exp: NOW + 300 }), 300))).toBe("ok");
    expect(checkLifetime(claims({ exp: NOW + 301 }), 300)).toEqual({ ok: false, error: { reason: "lifetime_too_long", lifetime: 301, max: 300 } });
  });
});

describe("checkAudience and checkClientBinding", () => {
  it("matches the audience exactly against the accepted set", () => {
    const c: IdJagClaims = claims();
    expect(reasonOf(checkAudience(c, new Set(["https://as.example"])))).toBe("ok");
    expect(reasonOf(checkAudience(c, new Set(["https://as.example/"])))).toBe("aud_mismatch");
  });
  it("requires client_id to equal the authenticated client", () => {
    expect(reasonOf(checkClientBinding(claims(), "c1"))).toBe("ok");
    expect(reasonOf(checkClientBinding(claims(), "C1"))).toBe("client_id_mismatch");
  });
});
