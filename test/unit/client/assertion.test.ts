import fc from "fast-check";
import { CompactSign, exportJWK, generateKeyPair } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeBase64Url } from "../../../workers/lib/base64url";
import {
  JWT_BEARER_ASSERTION_TYPE,
  MAX_CLIENT_ASSERTION_BYTES,
  readClientAssertion,
  validateClientAssertionClaims,
  verifyClientAssertion,
  type AssertionDefect,
} from "../../../workers/authorization-server/client/assertion";
import { makeKey, type TestKey } from "../../support/test-idp";

const NOW = 1_800_000_000;
const ISSUER = "https://as.example.test";
const TOKEN_ENDPOINT = `${ISSUER}/oauth2/token`;
const CLIENT = "client-jwt";
const encoder = new TextEncoder();

let ec: TestKey; // the client's registered ES256 key, kid "ec-1"
let rsa: TestKey; // a second registered key, kid "rsa-1"
let attacker: TestKey; // unregistered, but claims kid "ec-1"
let keys: JsonWebKey[];

beforeAll(async () => {
  [ec, rsa, attacker] = await Promise.all([makeKey("ES256", "ec-1"), makeKey("RS256", "rsa-1"), makeKey("ES256", "ec-1")]);
  keys = [ec.publicJwk, rsa.publicJwk];
});

const validHeader = (): Record<string, unknown> => ({ alg: "ES256", kid: "ec-1" });
const validClaims = (): Record<string, unknown> => ({
  iss: CLIENT,
  sub: CLIENT,
  aud: ISSUER,
  iat: NOW,
  exp: NOW + 120,
  jti: "jti-0001",
});

const b64 = (text: string) => encodeBase64Url(encoder.encode(text));

/**
 * Signs exact header and payload texts with an ES256 key (WebCrypto's ECDSA output is already the
 * JWS r‖s form), so tests can send what jose's signer would refuse to produce: duplicate members,
 * `crit`, odd `typ`s. Fields set to `undefined` in an override are dropped.
 */
async function signText(headerText: string, payloadText: string, key: TestKey = ec): Promise<string> {
  const input = `${b64(headerText)}.${b64(payloadText)}`;
  const sig = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key.privateKey, encoder.encode(input));
  return `${input}.${encodeBase64Url(new Uint8Array(sig))}`;
}

async function sign(options: { header?: Record<string, unknown>; claims?: Record<string, unknown>; key?: TestKey } = {}) {
  const header = JSON.stringify({ ...validHeader(), ...options.header });
  const payload = JSON.stringify({ ...validClaims(), ...options.claims });
  return signText(header, payload, options.key);
}

/** The module's two steps, as the authenticator runs them. */
async function check(token: string, options: { type?: string; keys?: JsonWebKey[]; now?: number } = {}) {
  const read = readClientAssertion(token, options.type ?? JWT_BEARER_ASSERTION_TYPE);
  if (!read.ok) return read;
  return verifyClientAssertion(read.value, options.keys ?? keys, { issuer: ISSUER, tokenEndpoint: TOKEN_ENDPOINT }, options.now ?? NOW);
}

const b64len = (bytes: number) => Math.ceil((bytes * 4) / 3);

/** A valid ES256 assertion exactly `length` characters long, padded with an extra claim. */
async function assertionOfLength(length: number): Promise<string> {
  for (const header of [validHeader(), { ...validHeader(), typ: "JWT" }, { ...validHeader(), typ: "application/jwt" }]) {
    const headerText = JSON.stringify(header);
    for (let n = 0; n < length; n++) {
      const payloadText = JSON.stringify({ ...validClaims(), pad: "x".repeat(n) });
      const total = b64len(headerText.length) + 1 + b64len(payloadText.length) + 1 + 86; // 64-byte signature
      if (total === length) {
        const token = await signText(headerText, payloadText);
        expect(token).toHaveLength(length);
        return token;
      }
      if (total > length) break;
    }
  }
  throw new Error(`no padding gives ${length} characters`);
}

async function otherKey(alg: "PS384" | "ES384" | "EdDSA" | "RS512", kid: string) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } as JsonWebKey };
}

describe("client assertion: accepted", () => {
  it("accepts a valid assertion and returns its jti and exp for the replay ledger", async () => {
    expect(await check(await sign())).toEqual({ ok: true, value: { jti: "jti-0001", exp: NOW + 120 } });
  });

  it.each([
    { name: "exp exactly 60 s in the past (the skew)", claims: { exp: NOW - 60 } },
    { name: "exp 59 s in the past", claims: { exp: NOW - 59 } },
    { name: "exp exactly 360 s ahead (lifetime + skew)", claims: { exp: NOW + 360 } },
    { name: "a fractional exp", claims: { exp: NOW + 120.5 } },
    { name: "iat exactly 60 s ahead", claims: { iat: NOW + 60 } },
    { name: "no iat", claims: { iat: undefined } },
    { name: "nbf exactly 60 s ahead", claims: { nbf: NOW + 60 } },
    { name: "nbf in the past", claims: { nbf: NOW - 10 } },
    { name: "a one-character jti", claims: { jti: "j" } },
    { name: "a 256-character jti", claims: { jti: "j".repeat(256) } },
    { name: "aud = the token endpoint", claims: { aud: TOKEN_ENDPOINT } },
    { name: "aud an array containing the issuer", claims: { aud: ["https://other.example", ISSUER] } },
    { name: "aud an array containing the token endpoint", claims: { aud: [TOKEN_ENDPOINT] } },
    { name: "no typ", header: { typ: undefined } },
    { name: "typ JWT", header: { typ: "JWT" } },
    { name: "typ jwt (case-insensitive)", header: { typ: "jwt" } },
    { name: "typ application/jwt", header: { typ: "application/jwt" } },
    { name: "typ client-authentication+jwt with aud = issuer", header: { typ: "client-authentication+jwt" } },
    { name: "typ Application/Client-Authentication+JWT", header: { typ: "Application/Client-Authentication+JWT" } },
    { name: "no kid when only one registered key fits the alg", header: { kid: undefined } },
    { name: "jku/x5u headers (ignored: keys come from the registration)", header: { jku: "https://evil.example/jwks", x5u: "https://evil.example/cert" } },
    { name: "unknown claims", claims: { act: { sub: "someone" }, extra: [1, 2] } },
  ])("accepts $name", async ({ header, claims }) => {
    const result = await check(await sign({ header, claims }));
    expect(result.ok).toBe(true);
  });

  it(`accepts an assertion of exactly ${MAX_CLIENT_ASSERTION_BYTES} bytes`, async () => {
    expect((await check(await assertionOfLength(MAX_CLIENT_ASSERTION_BYTES))).ok).toBe(true);
  });

  it.each(["PS384", "ES384", "EdDSA", "RS512"] as const)("accepts %s with a registered key", async (alg) => {
    const key = await otherKey(alg, `k-${alg}`);
    const token = await new CompactSign(encoder.encode(JSON.stringify(validClaims())))
      .setProtectedHeader({ alg, kid: `k-${alg}` })
      .sign(key.privateKey);
    expect((await check(token, { keys: [ec.publicJwk, key.publicJwk] })).ok).toBe(true);
  });

  it("accepts RS256 with the client's RSA key", async () => {
    const token = await new CompactSign(encoder.encode(JSON.stringify(validClaims())))
      .setProtectedHeader({ alg: "RS256", kid: "rsa-1" })
      .sign(rsa.privateKey);
    expect((await check(token)).ok).toBe(true);
  });

  it("reports the client the assertion names, before any key is used", async () => {
    const read = readClientAssertion(await sign(), JWT_BEARER_ASSERTION_TYPE);
    expect(read.ok && read.value.clientId).toBe(CLIENT);
  });
});

interface RefusalCase {
  name: string;
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  key?: () => TestKey;
  /** Builds the token some other way, from a valid one. */
  token?: (valid: string) => string | Promise<string>;
  type?: string;
  keys?: () => JsonWebKey[];
  detail: AssertionDefect;
}

const segments = (t: string) => t.split(".") as [string, string, string];

const cases: RefusalCase[] = [
  // request shape
  { name: "another client_assertion_type", type: "urn:ietf:params:oauth:client-assertion-type:saml2-bearer", detail: "client_assertion_type" },
  { name: `an assertion of ${MAX_CLIENT_ASSERTION_BYTES + 1} bytes`, token: () => assertionOfLength(MAX_CLIENT_ASSERTION_BYTES + 1), detail: "too_large" },
  // structure
  { name: "two segments", token: (t) => segments(t).slice(0, 2).join("."), detail: "malformed" },
  { name: "four segments", token: (t) => `${t}.x`, detail: "malformed" },
  { name: "five segments (a JWE)", token: (t) => `${t}.x.y`, detail: "jwe" },
  { name: "the empty string", token: () => "", detail: "malformed" },
  { name: "a header that is not base64url", token: (t) => `e*J.${segments(t)[1]}.${segments(t)[2]}`, detail: "malformed" },
  { name: "a signature that is not base64url", token: (t) => `${segments(t)[0]}.${segments(t)[1]}.a*b`, detail: "malformed" },
  { name: "a payload that is not JSON", token: (t) => `${segments(t)[0]}.${b64("{iss:1}")}.${segments(t)[2]}`, detail: "malformed" },
  { name: "a payload that is a JSON array", token: (t) => `${segments(t)[0]}.${b64("[]")}.${segments(t)[2]}`, detail: "malformed" },
  { name: "a header that is JSON null", token: (t) => `${b64("null")}.${segments(t)[1]}.${segments(t)[2]}`, detail: "malformed" },
  {
    // Valid JSON if the 0xff were replaced by U+FFFD instead of refused.
    name: "a header that is not UTF-8",
    token: async () => {
      const header = new Uint8Array([...encoder.encode('{"alg":"ES256","kid":"ec-1","x":"'), 0xff, ...encoder.encode('"}')]);
      const input = `${encodeBase64Url(header)}.${b64(JSON.stringify(validClaims()))}`;
      const sig = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, ec.privateKey, encoder.encode(input));
      return `${input}.${encodeBase64Url(new Uint8Array(sig))}`;
    },
    detail: "malformed",
  },
  {
    name: "a header repeating alg",
    token: () => signText('{"alg":"ES256","kid":"ec-1","alg":"ES256"}', JSON.stringify(validClaims())),
    detail: "duplicate_member",
  },
  {
    name: "a payload repeating iss",
    token: () => signText(JSON.stringify(validHeader()), JSON.stringify(validClaims()).replace("{", '{"iss":"someone-else",')),
    detail: "duplicate_member",
  },
  // header
  { name: "alg none", header: { alg: "none" }, detail: "alg" },
  { name: "alg HS256 (the public key as an HMAC secret)", header: { alg: "HS256" }, detail: "alg" },
  { name: "alg ES512 (not on the list)", header: { alg: "ES512" }, detail: "alg" },
  { name: "alg es256 (algorithms are case-sensitive)", header: { alg: "es256" }, detail: "alg" },
  { name: "no alg", header: { alg: undefined }, detail: "alg" },
  { name: "typ oauth-id-jag+jwt (an ID-JAG)", header: { typ: "oauth-id-jag+jwt" }, detail: "typ" },
  { name: "typ application/oauth-id-jag+jwt", header: { typ: "application/oauth-id-jag+jwt" }, detail: "typ" },
  { name: "typ at+jwt (an access token)", header: { typ: "at+jwt" }, detail: "typ" },
  { name: "typ dpop+jwt", header: { typ: "dpop+jwt" }, detail: "typ" },
  { name: "typ client-authentication (no +jwt)", header: { typ: "client-authentication" }, detail: "typ" },
  { name: "typ jwt with trailing junk", header: { typ: "jwtx" }, detail: "typ" },
  { name: "an empty typ", header: { typ: "" }, detail: "typ" },
  { name: "a non-string typ", header: { typ: 1 }, detail: "typ" },
  { name: "a crit header", header: { crit: ["exp"], exp: 1 }, detail: "crit" },
  { name: "a non-string kid", header: { kid: 1 }, detail: "kid" },
  // identification
  { name: "iss ≠ sub", claims: { sub: "someone-else" }, detail: "iss_sub" },
  { name: "no iss", claims: { iss: undefined }, detail: "iss_sub" },
  { name: "no sub", claims: { sub: undefined }, detail: "iss_sub" },
  { name: "an empty iss and sub", claims: { iss: "", sub: "" }, detail: "iss_sub" },
  { name: "numeric iss and sub", claims: { iss: 7, sub: 7 }, detail: "iss_sub" },
  // key and signature
  { name: "a kid the client did not register", header: { kid: "ec-2" }, detail: "key_unknown" },
  { name: "an alg none of the client's keys fits", header: { alg: "PS256", kid: "ec-1" }, detail: "key_unknown" },
  { name: "a client with no keys", keys: () => [], detail: "key_unknown" },
  {
    name: "no kid while two registered keys fit",
    header: { kid: undefined },
    keys: () => [ec.publicJwk, { ...attacker.publicJwk, kid: "ec-2" }],
    detail: "key_ambiguous",
  },
  {
    name: "a registered key that cannot be imported",
    keys: () => [{ kty: "EC", crv: "P-256", x: "AAAA", y: "AAAA", kid: "ec-1" } as JsonWebKey],
    detail: "key_unusable",
  },
  { name: "a signature by another key with the same kid", key: () => attacker, detail: "signature" },
  {
    name: "a signature by another key named in a jwk header",
    token: () => sign({ key: attacker, header: { jwk: attacker.publicJwk } }),
    detail: "signature",
  },
  {
    name: "a payload changed after signing",
    token: async (t) => `${segments(t)[0]}.${segments(await sign({ claims: { jti: "jti-0002" } }))[1]}.${segments(t)[2]}`,
    detail: "signature",
  },
  { name: "an empty signature", token: (t) => `${segments(t)[0]}.${segments(t)[1]}.`, detail: "signature" },
  // audience
  { name: "aud another server", claims: { aud: "https://other.example" }, detail: "aud" },
  { name: "aud the issuer with a trailing slash", claims: { aud: `${ISSUER}/` }, detail: "aud" },
  { name: "aud the issuer in other letter case", claims: { aud: ISSUER.toUpperCase() }, detail: "aud" },
  { name: "aud an array without us", claims: { aud: ["https://other.example"] }, detail: "aud" },
  { name: "aud an empty array", claims: { aud: [] }, detail: "aud" },
  { name: "no aud", claims: { aud: undefined }, detail: "aud" },
  {
    name: "aud = the token endpoint in a client-authentication+jwt assertion (rfc7523bis)",
    header: { typ: "client-authentication+jwt" },
    claims: { aud: TOKEN_ENDPOINT },
    detail: "aud",
  },
  {
    name: "aud an array in a client-authentication+jwt assertion (rfc7523bis)",
    header: { typ: "client-authentication+jwt" },
    claims: { aud: [ISSUER] },
    detail: "aud",
  },
  // time
  { name: "no exp", claims: { exp: undefined }, detail: "exp" },
  { name: "a string exp", claims: { exp: String(NOW + 120) }, detail: "exp" },
  { name: "exp 61 s in the past", claims: { exp: NOW - 61 }, detail: "expired" },
  { name: "exp 361 s ahead (too long-lived)", claims: { exp: NOW + 361 }, detail: "lifetime" },
  { name: "a string nbf", claims: { nbf: "soon" }, detail: "nbf" },
  { name: "nbf 61 s ahead", claims: { nbf: NOW + 61 }, detail: "not_yet_valid" },
  { name: "a string iat", claims: { iat: "now" }, detail: "iat" },
  { name: "iat 61 s ahead", claims: { iat: NOW + 61 }, detail: "iat_future" },
  // jti
  { name: "no jti", claims: { jti: undefined }, detail: "jti" },
  { name: "an empty jti", claims: { jti: "" }, detail: "jti" },
  { name: "a 257-character jti", claims: { jti: "j".repeat(257) }, detail: "jti" },
  { name: "a numeric jti", claims: { jti: 5 }, detail: "jti" },
];

describe("client assertion: refused", () => {
  it.each(cases)("refuses $name", async (c) => {
    const signed = await sign({ header: c.header, claims: c.claims, key: c.key?.() });
    const token = c.token ? await c.token(signed) : signed;
    const options = { ...(c.type ? { type: c.type } : {}), ...(c.keys ? { keys: c.keys() } : {}) };
    expect(await check(token, options)).toEqual({ ok: false, error: { reason: "client_assertion_invalid", detail: c.detail } });
  });

  it("names rules only: no detail can carry token material", () => {
    for (const c of cases) expect(c.detail).toMatch(/^[a-z_]+$/);
  });
});

describe("validateClientAssertionClaims", () => {
  const expected = { issuer: ISSUER, tokenEndpoint: TOKEN_ENDPOINT, explicitlyTyped: false };

  it("measures time from the given clock only", () => {
    const claims = validClaims();
    expect(validateClientAssertionClaims(claims, expected, NOW).ok).toBe(true);
    expect(validateClientAssertionClaims(claims, expected, NOW + 120 + 61)).toEqual({
      ok: false,
      error: { reason: "client_assertion_invalid", detail: "expired" },
    });
  });
});

describe("readClientAssertion on arbitrary input", () => {
  it("returns a value or a client_assertion_invalid refusal, never throws", () => {
    const jsonObject = fc.dictionary(fc.string(), fc.jsonValue()).map((o) => JSON.stringify(o));
    const part = fc.oneof(fc.string(), jsonObject.map(b64), fc.constant(b64('{"alg":"ES256"}')));
    const token = fc.oneof(fc.string(), fc.tuple(part, part, part).map((p) => p.join(".")));
    fc.assert(
      fc.property(token, fc.string(), (t, type) => {
        for (const assertionType of [type, JWT_BEARER_ASSERTION_TYPE]) {
          const r = readClientAssertion(t, assertionType);
          if (!r.ok) expect(r.error.reason).toBe("client_assertion_invalid");
        }
      }),
      { numRuns: 500 },
    );
  });
});
