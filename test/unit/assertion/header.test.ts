import { describe, expect, it } from "vitest";
import { checkIdJagHeader } from "../../../workers/authorization-server/assertion/header";

const reason = (h: Record<string, unknown>) => {
  const r = checkIdJagHeader(h);
  return r.ok ? "ok" : r.error.reason;
};

describe("checkIdJagHeader", () => {
  it.each(["oauth-id-jag+jwt", "OAUTH-ID-JAG+JWT", "application/oauth-id-jag+jwt", "Application/Oauth-Id-Jag+Jwt"])("accepts typ %s", (typ) => {
    expect(reason({ typ, alg: "RS256" })).toBe("ok");
  });
  it.each([undefined, "JWT", "at+jwt", "oauth-id-jag", "application/jwt", " oauth-id-jag+jwt", 42, "secevent+jwt", "global-token-revocation+jwt", "logout+jwt"])("refuses typ %s", (typ) => {
    expect(reason({ typ, alg: "RS256" })).toBe("typ_invalid");
  });
  it.each(["none", "HS256", "HS512", "RSA-OAEP", "", undefined, 1])("refuses alg %s", (alg) => {
    expect(reason({ typ: "oauth-id-jag+jwt", alg })).toBe("alg_not_allowed");
  });
  it.each(["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"])("accepts alg %s", (alg) => {
    expect(reason({ typ: "oauth-id-jag+jwt", alg })).toBe("ok");
  });
  it("refuses any crit, even an empty one", () => {
    expect(reason({ typ: "oauth-id-jag+jwt", alg: "RS256", crit: [] })).toBe("crit_unsupported");
  });
  it("refuses a non-string or empty kid, and returns a string kid", () => {
    expect(reason({ typ: "oauth-id-jag+jwt", alg: "RS256", kid: 1 })).toBe("jws_malformed");
    expect(reason({ typ: "oauth-id-jag+jwt", alg: "RS256", kid: "" })).toBe("jws_malformed");
    expect(checkIdJagHeader({ typ: "oauth-id-jag+jwt", alg: "ES256", kid: "k" })).toEqual({ ok: true, value: { alg: "ES256", kid: "k" } });
  });
});
