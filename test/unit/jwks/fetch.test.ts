import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  freshnessSeconds,
  isFetchableUrl,
  MAX_JWKS_KEYS,
  parseMaxAge,
  toPublicJwks,
} from "../../../workers/authorization-server/jwks/fetch";

describe("parseMaxAge", () => {
  it.each([
    ["max-age=300", 300],
    ["public, max-age=300, must-revalidate", 300],
    ["MAX-AGE=120", 120],
    ['max-age="90"', 90],
    ["max-age = 45", 45],
    ["max-age=0", 0],
  ])("reads %s as %d", (header, seconds) => {
    expect(parseMaxAge(header)).toBe(seconds);
  });
  it.each([
    ["absent", null],
    ["no-store overrides max-age", "max-age=300, no-store"],
    ["a repeated max-age is invalid (RFC 9111 §4.2.1)", "max-age=300, max-age=10"],
    ["a negative value", "max-age=-5"],
    ["a fraction", "max-age=1.5"],
    ["a non-number", "max-age=soon"],
    ["s-maxage alone", "s-maxage=300"],
  ])("gives no max-age for %s", (_name, header) => {
    expect(parseMaxAge(header)).toBeUndefined();
  });
});

describe("freshnessSeconds", () => {
  it.each([
    ["max-age=59", 60],
    ["max-age=60", 60],
    ["max-age=0", 60],
    ["max-age=600", 600],
    ["max-age=3600", 3600],
    ["max-age=3601", 3600],
    ["max-age=99999999999999999999999", 3600],
  ])("clamps %s to %d s", (header, seconds) => {
    expect(freshnessSeconds(header)).toBe(seconds);
  });
  it.each([[null], ["no-store"], ["max-age=abc"]])("defaults to 600 s for %s", (header) => {
    expect(freshnessSeconds(header)).toBe(600);
  });
  it("keeps any header within [60, 3600] s", () => {
    fc.assert(
      fc.property(fc.option(fc.string(), { nil: null }), (header) => {
        const seconds = freshnessSeconds(header);
        return Number.isInteger(seconds) && seconds >= 60 && seconds <= 3600;
      }),
    );
  });
});

describe("isFetchableUrl", () => {
  it.each([
    "https://idp.example.com/keys",
    "http://127.0.0.1:8788/jwks",
    "http://127.9.8.7/jwks",
    "http://localhost:8788/jwks",
    "http://[::1]:8788/jwks",
  ])("allows %s", (url) => {
    expect(isFetchableUrl(url)).toBe(true);
  });
  it.each([
    "http://idp.example.com/keys",
    "http://127.0.0.1.nip.io/jwks",
    "http://10.0.0.1/jwks",
    "ftp://idp.example.com/keys",
    "file:///etc/passwd",
    "not a url",
  ])("refuses %s", (url) => {
    expect(isFetchableUrl(url)).toBe(false);
  });
});

describe("toPublicJwks", () => {
  const ec = { kty: "EC", crv: "P-256", kid: "k1", x: "x", y: "y" };
  it.each(["d", "p", "q", "dp", "dq", "qi", "oth", "k"])("drops a key carrying the private member %s", (member) => {
    expect(toPublicJwks({ keys: [ec, { ...ec, kid: "leak", [member]: "secret" }] })).toEqual({ ok: true, value: { keys: [ec] } });
  });
  it("drops entries that are not JWK objects", () => {
    expect(toPublicJwks({ keys: [ec, "k", null, [], { kid: "no-kty" }] })).toEqual({ ok: true, value: { keys: [ec] } });
  });
  it(`accepts ${MAX_JWKS_KEYS} keys and refuses one more`, () => {
    expect(toPublicJwks({ keys: Array(MAX_JWKS_KEYS).fill(ec) }).ok).toBe(true);
    expect(toPublicJwks({ keys: Array(MAX_JWKS_KEYS + 1).fill(ec) }).ok).toBe(false);
  });
  it.each([[null], [[]], ["keys"], [{}], [{ keys: {} }]])("refuses a body that is not a key set: %j", (body) => {
    expect(toPublicJwks(body).ok).toBe(false);
  });
});
