import { describe, expect, it } from "vitest";
import { createTestIdp } from "../../support/test-idp";

describe("test IdP host", () => {
  it("serves the published JWKS over loopback and counts fetches", async () => {
    const idp = await createTestIdp();
    const res = await fetch(idp.jwksUri);
    const body = await res.json<{ keys: { kid: string }[] }>();
    expect(body.keys.map((k) => k.kid)).toEqual(["rsa-1", "ec-1"]);
    expect((await idp.stats()).jwksFetches).toBe(1);
  });
});
