import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  checkLogoutClaims,
  checkLogoutHeader,
  MAX_LOGOUT_TOKEN_BYTES,
  parseLogoutBody,
  readBearer,
} from "../../../workers/authorization-server/webhooks/logout-request";

const NOW = 1_800_000_000;
const ISS = "https://acme.okta.example";
const AUD = "https://as.example.test/logout/okta/okta";
const CLIENT = "0oaEMAEDGE";
const EXPECTED = { issuer: ISS, audience: AUD, clientId: CLIENT };

const reasonOf = (r: { ok: boolean; error?: { reason: string } }) => (r.ok ? "ok" : r.error!.reason);
const claims = (overrides: Record<string, unknown> = {}): Record<string, unknown> => {
  const base: Record<string, unknown> = { iss: ISS, aud: AUD, sub: CLIENT, jti: "jti-1", iat: NOW, nbf: NOW - 300, exp: NOW + 300 };
  for (const [k, v] of Object.entries(overrides)) v === undefined ? delete base[k] : (base[k] = v);
  return base;
};

describe("readBearer", () => {
  it("takes the JWT from a Bearer header, the scheme in any case", () => {
    expect(readBearer("Bearer a.b.c")).toEqual({ ok: true, value: "a.b.c" });
    expect(readBearer("bearer a.b.c")).toEqual({ ok: true, value: "a.b.c" });
  });
  it.each([
    { name: "no header", header: null, reason: "bearer_missing" },
    { name: "another scheme", header: "Basic YTpi", reason: "bearer_missing" },
    { name: "the scheme alone", header: "Bearer", reason: "bearer_missing" },
    { name: "two tokens", header: "Bearer a.b.c d.e.f", reason: "bearer_missing" },
    { name: "a token over the cap", header: `Bearer ${"a".repeat(MAX_LOGOUT_TOKEN_BYTES + 1)}`, reason: "token_malformed" },
  ])("refuses $name", ({ header, reason }) => {
    expect(reasonOf(readBearer(header))).toBe(reason);
  });
  it("accepts a token of exactly the cap", () => {
    expect(reasonOf(readBearer(`Bearer ${"a".repeat(MAX_LOGOUT_TOKEN_BYTES)}`))).toBe("ok");
  });
});

describe("checkLogoutHeader", () => {
  const allowed = ["RS256", "ES256"] as const;
  it.each(["global-token-revocation+jwt", "GLOBAL-TOKEN-REVOCATION+JWT", "application/global-token-revocation+jwt"])("accepts typ %s", (typ) => {
    expect(checkLogoutHeader({ typ, alg: "RS256", kid: "k1" }, allowed)).toEqual({ ok: true, value: { alg: "RS256", kid: "k1" } });
  });
  it("refuses none and HS256 even when a misconfigured list names them", () => {
    for (const alg of ["none", "HS256"]) {
      expect(reasonOf(checkLogoutHeader({ typ: "global-token-revocation+jwt", alg }, [alg as "RS256"]))).toBe("alg_not_allowed");
    }
  });

  it.each([
    { name: "no typ", header: { alg: "RS256" }, reason: "typ_invalid" },
    { name: "typ JWT", header: { typ: "JWT", alg: "RS256" }, reason: "typ_invalid" },
    { name: "an ID-JAG's typ", header: { typ: "oauth-id-jag+jwt", alg: "RS256" }, reason: "typ_invalid" },
    { name: "alg none", header: { typ: "global-token-revocation+jwt", alg: "none" }, reason: "alg_not_allowed" },
    { name: "alg HS256", header: { typ: "global-token-revocation+jwt", alg: "HS256" }, reason: "alg_not_allowed" },
    { name: "an alg the issuer does not use", header: { typ: "global-token-revocation+jwt", alg: "PS256" }, reason: "alg_not_allowed" },
    { name: "no alg", header: { typ: "global-token-revocation+jwt" }, reason: "alg_not_allowed" },
    { name: "crit", header: { typ: "global-token-revocation+jwt", alg: "RS256", crit: ["b64"] }, reason: "crit_unsupported" },
    { name: "a numeric kid", header: { typ: "global-token-revocation+jwt", alg: "RS256", kid: 1 }, reason: "token_malformed" },
  ])("refuses $name", ({ header, reason }) => {
    expect(reasonOf(checkLogoutHeader(header, allowed))).toBe(reason);
  });
});

describe("checkLogoutClaims", () => {
  it("accepts Okta's claims (nbf 5 min back, exp 5 min ahead) and returns the jti and exp", () => {
    expect(checkLogoutClaims(claims(), EXPECTED, NOW)).toEqual({ ok: true, value: { jti: "jti-1", exp: NOW + 300 } });
  });
  it("accepts a one-element aud array and no nbf", () => {
    expect(reasonOf(checkLogoutClaims(claims({ aud: [AUD], nbf: undefined }), EXPECTED, NOW))).toBe("ok");
  });

  it.each([
    { name: "another iss", change: { iss: "https://evil.okta.example" }, reason: "iss_mismatch" },
    { name: "no iss", change: { iss: undefined }, reason: "iss_mismatch" },
    { name: "another aud", change: { aud: "https://as.example.test/oauth2/token" }, reason: "aud_mismatch" },
    { name: "aud with a query", change: { aud: `${AUD}?x=1` }, reason: "aud_mismatch" },
    { name: "aud with a trailing slash", change: { aud: `${AUD}/` }, reason: "aud_mismatch" },
    { name: "aud of two elements", change: { aud: [AUD, "https://other.example"] }, reason: "aud_mismatch" },
    { name: "no aud", change: { aud: undefined }, reason: "aud_mismatch" },
    { name: "another sub", change: { sub: "0oaOTHER" }, reason: "sub_mismatch" },
    { name: "no exp", change: { exp: undefined }, reason: "claim_missing" },
    { name: "exp as a string", change: { exp: String(NOW + 300) }, reason: "claim_missing" },
    { name: "no iat", change: { iat: undefined }, reason: "claim_missing" },
    { name: "nbf as a string", change: { nbf: "soon" }, reason: "claim_missing" },
    { name: "no jti", change: { jti: undefined }, reason: "claim_missing" },
    { name: "an empty jti", change: { jti: "" }, reason: "claim_missing" },
    { name: "a jti over 256 characters", change: { jti: "j".repeat(257) }, reason: "claim_missing" },
    { name: "exp more than 60 s past", change: { exp: NOW - 61, iat: NOW - 361, nbf: undefined }, reason: "expired" },
    { name: "exp more than 5 min + 60 s ahead", change: { exp: NOW + 361 }, reason: "exp_too_far" },
    { name: "nbf more than 60 s ahead", change: { nbf: NOW + 61 }, reason: "not_yet_valid" },
    { name: "iat more than 60 s ahead", change: { iat: NOW + 61 }, reason: "issued_in_future" },
  ])("refuses $name", ({ change, reason }) => {
    expect(reasonOf(checkLogoutClaims(claims(change), EXPECTED, NOW))).toBe(reason);
  });

  it.each([
    { name: "exp exactly 60 s past", change: { exp: NOW - 60, iat: NOW - 360, nbf: undefined } },
    { name: "exp exactly 5 min + 60 s ahead", change: { exp: NOW + 360 } },
    { name: "nbf exactly 60 s ahead", change: { nbf: NOW + 60 } },
    { name: "iat exactly 60 s ahead", change: { iat: NOW + 60 } },
    { name: "a jti of 256 characters", change: { jti: "j".repeat(256) } },
  ])("accepts $name (the boundary)", ({ change }) => {
    expect(reasonOf(checkLogoutClaims(claims(change), EXPECTED, NOW))).toBe("ok");
  });
});

describe("parseLogoutBody", () => {
  it("reads an iss_sub subject of our issuer", () => {
    expect(parseLogoutBody(JSON.stringify({ sub_id: { format: "iss_sub", iss: ISS, sub: "00uX" } }), ISS)).toEqual({ ok: true, value: { format: "iss_sub", sub: "00uX" } });
  });
  it("reads an email subject, ignoring members it does not know", () => {
    expect(parseLogoutBody(JSON.stringify({ sub_id: { format: "email", email: "jo@acme.example", extra: 1 }, other: true }), ISS)).toEqual({
      ok: true,
      value: { format: "email", email: "jo@acme.example" },
    });
  });

  it.each([
    { name: "text that is not JSON", body: "sub_id=x", reason: "body_not_json" },
    { name: "a repeated member", body: `{"sub_id":{"format":"email","email":"a@b","email":"c@d"}}`, reason: "duplicate_json_member" },
    { name: "an array root", body: "[]", reason: "sub_id_missing" },
    { name: "no sub_id", body: "{}", reason: "sub_id_missing" },
    { name: "sub_id as a string", body: `{"sub_id":"jo@acme.example"}`, reason: "sub_id_missing" },
    { name: "the opaque format", body: `{"sub_id":{"format":"opaque","id":"x"}}`, reason: "sub_id_format_unsupported" },
    { name: "no format", body: `{"sub_id":{"email":"jo@acme.example"}}`, reason: "sub_id_format_unsupported" },
    { name: "an iss_sub of another issuer", body: JSON.stringify({ sub_id: { format: "iss_sub", iss: "https://other.example", sub: "00uX" } }), reason: "subject_issuer_mismatch" },
    { name: "an iss_sub without sub", body: JSON.stringify({ sub_id: { format: "iss_sub", iss: ISS } }), reason: "sub_id_invalid" },
    { name: "an iss_sub with an empty sub", body: JSON.stringify({ sub_id: { format: "iss_sub", iss: ISS, sub: "" } }), reason: "sub_id_invalid" },
    { name: "an iss_sub with a control character", body: JSON.stringify({ sub_id: { format: "iss_sub", iss: ISS, sub: "00u\u0000" } }), reason: "sub_id_invalid" },
    { name: "an iss_sub without iss", body: JSON.stringify({ sub_id: { format: "iss_sub", sub: "00uX" } }), reason: "sub_id_invalid" },
    { name: "an email without @", body: JSON.stringify({ sub_id: { format: "email", email: "jo" } }), reason: "sub_id_invalid" },
    { name: "an email with spaces", body: JSON.stringify({ sub_id: { format: "email", email: "jo @acme.example" } }), reason: "sub_id_invalid" },
    { name: "an overlong email", body: JSON.stringify({ sub_id: { format: "email", email: `${"j".repeat(310)}@acme.example` } }), reason: "sub_id_invalid" },
    { name: "a numeric email", body: JSON.stringify({ sub_id: { format: "email", email: 5 } }), reason: "sub_id_invalid" },
  ])("refuses $name", ({ body, reason }) => {
    expect(reasonOf(parseLogoutBody(body, ISS))).toBe(reason);
  });

  it("answers any input with a subject or a known reason, never an exception", () => {
    const known = new Set(["ok", "body_not_json", "duplicate_json_member", "sub_id_missing", "sub_id_format_unsupported", "sub_id_invalid", "subject_issuer_mismatch"]);
    const subIds = fc.record({ format: fc.constantFrom("email", "iss_sub", "opaque"), email: fc.jsonValue(), iss: fc.constantFrom(ISS, "x"), sub: fc.jsonValue() }, { requiredKeys: [] });
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), subIds.map((s) => JSON.stringify({ sub_id: s }))), (body) => {
        expect(known.has(reasonOf(parseLogoutBody(body, ISS)))).toBe(true);
      }),
    );
  });
});
