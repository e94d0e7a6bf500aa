import { describe, expect, it } from "vitest";
import { isUsableFor, selectKey } from "../../../workers/authorization-server/jwks/select";

const rsa = (extra: Record<string, unknown> = {}) => ({ kty: "RSA", n: "x", e: "AQAB", ...extra }) as JsonWebKey;
const ec = (extra: Record<string, unknown> = {}) => ({ kty: "EC", crv: "P-256", x: "x", y: "y", ...extra }) as JsonWebKey;

describe("isUsableFor", () => {
  it.each([
    { name: "an RSA key for ES256", key: rsa(), alg: "ES256", usable: false },
    { name: "a P-384 key for ES256", key: ec({ crv: "P-384" }), alg: "ES256", usable: false },
    { name: "an encryption key", key: rsa({ use: "enc" }), alg: "RS256", usable: false },
    { name: "a key for another alg", key: rsa({ alg: "PS256" }), alg: "RS256", usable: false },
    { name: "key_ops without verify", key: rsa({ key_ops: ["encrypt"] }), alg: "RS256", usable: false },
    { name: "key_ops that is not an array", key: rsa({ key_ops: 5 }), alg: "RS256", usable: false },
    { name: "key_ops with verify", key: rsa({ key_ops: ["verify"] }), alg: "RS256", usable: true },
    { name: "a plain signing key", key: ec({ use: "sig" }), alg: "ES256", usable: true },
  ])("$name → $usable", ({ key, alg, usable }) => {
    expect(isUsableFor(key, alg as "RS256")).toBe(usable);
  });
});

describe("selectKey", () => {
  const keys = [rsa({ kid: "a" }), rsa({ kid: "b" }), ec({ kid: "c" })];
  it("picks by kid", () => expect(selectKey(keys, { alg: "RS256", kid: "b" })).toEqual({ ok: true, value: keys[1] }));
  it("refuses an unknown kid", () => expect(selectKey(keys, { alg: "RS256", kid: "z" })).toEqual({ ok: false, error: { reason: "kid_unknown", kid: "z" } }));
  it("refuses a kid whose key has the wrong type", () => expect(selectKey(keys, { alg: "ES256", kid: "a" }).ok).toBe(false));
  it("uses the only usable key when there is no kid", () => expect(selectKey(keys, { alg: "ES256" })).toEqual({ ok: true, value: keys[2] }));
  it("refuses to guess among several keys without a kid", () => expect(selectKey(keys, { alg: "RS256" })).toEqual({ ok: false, error: { reason: "key_ambiguous" } }));
  it("refuses two keys with the same kid", () => expect(selectKey([rsa({ kid: "d" }), rsa({ kid: "d" })], { alg: "RS256", kid: "d" })).toEqual({ ok: false, error: { reason: "key_ambiguous" } }));
});
