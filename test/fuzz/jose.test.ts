// Properties of the JOSE parsers an ID-JAG and a client assertion go through: strict JSON, base64url,
// the compact JWS, the ID-JAG header and claims (the clock a parameter), and the client assertion
// before and after its signature. Any input yields a value or a known refusal, never an exception.
import fc from "fast-check";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import {
  checkAudience,
  checkClientBinding,
  checkLifetime,
  checkValidityWindow,
  readIdJagClaims,
  readSubjectAttributes,
} from "../../workers/authorization-server/assertion/claims";
import { checkIdJagHeader } from "../../workers/authorization-server/assertion/header";
import { parseCompactJws } from "../../workers/authorization-server/assertion/jws";
import {
  JWT_BEARER_ASSERTION_TYPE,
  readClientAssertion,
  validateClientAssertionClaims,
  verifyClientAssertion,
} from "../../workers/authorization-server/client/assertion";
import { selectKey } from "../../workers/authorization-server/jwks/select";
import { decodeBase64Url } from "../../workers/lib/base64url";
import { parseStrictJson } from "../../workers/lib/strict-json";
import { makeKey } from "../support/test-idp";
import { check, compactLike, expectKnownOutcome, json, jsonObject, jsonText, mutated, nearLimit, numberish, TIMEOUT_MS } from "./support";
import { ASSERTION_DEFECTS, CLAIM_REASONS, STRUCTURE_REASONS } from "./reasons";

const NOW = 1_800_000_000;
const now = fc.oneof(fc.constant(NOW), fc.integer({ min: 0, max: 2 ** 40 }));
const time = fc.oneof(numberish, fc.integer({ min: NOW - 400, max: NOW + 400 }));

/** A valid ID-JAG header, then mutated. */
const idJagHeader = mutated(
  { typ: "oauth-id-jag+jwt", alg: "RS256", kid: "rsa-1" },
  { typ: fc.constantFrom("OAUTH-ID-JAG+JWT", "application/oauth-id-jag+jwt", "JWT", ""), alg: fc.constantFrom("ES256", "EdDSA", "HS256", "none", "RS256 "), kid: fc.oneof(nearLimit(256), fc.constant("")), crit: fc.constantFrom([], ["exp"], "b64") },
);
/** Valid ID-JAG claims at NOW, then mutated. */
const idJagClaims = mutated(
  { iss: "https://idp.example", sub: "user-1", aud: "https://as.example.test", client_id: "client-1", jti: "jti-1", iat: NOW, exp: NOW + 300, resource: "https://mcp.example/mcp", scope: "read" },
  {
    aud: fc.constantFrom(["https://as.example.test"], ["https://as.example.test", "x"], [], [""], [1]),
    jti: fc.oneof(nearLimit(256), fc.constant("")),
    iat: time, exp: time, nbf: time, auth_time: time,
    resource: fc.constantFrom([], ["a"], ["a", 1], "not a uri"),
    act: fc.constantFrom({ sub: "agent" }, [], null),
    cnf: fc.constant({ jkt: "x" }), authorization_details: fc.constant([]),
    groups: fc.oneof(fc.array(fc.string(), { maxLength: 3 }), fc.constant(Array.from({ length: 1001 }, () => "g"))),
    email: json, amr: fc.constantFrom(["pwd"], [1], "pwd"),
  },
);

describe("lib/strict-json.ts parseStrictJson", () => {
  it("parses or refuses (not_json, duplicate_member) any text, and agrees with JSON.parse on what it accepts", async () => {
    await check("lib/strict-json parseStrictJson", fc.property(fc.oneof(jsonText(jsonObject), jsonText(json), fc.string({ unit: "binary" })), (text) => {
      const r = parseStrictJson(text);
      expectKnownOutcome(r, ["not_json", "duplicate_member"], (e) => e);
      if (r.ok) expect(r.value).toEqual(JSON.parse(text));
    }));
  }, TIMEOUT_MS);
});

describe("lib/base64url.ts decodeBase64Url", () => {
  it("decodes any string to bytes or undefined", async () => {
    await check("lib/base64url decodeBase64Url", fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 40 }), fc.stringMatching(/^[A-Za-z0-9_=+/-]{0,40}$/)), (text) => {
      const bytes = decodeBase64Url(text);
      if (bytes !== undefined) expect(bytes).toBeInstanceOf(Uint8Array);
    }));
  }, TIMEOUT_MS);
});

describe("assertion/jws.ts parseCompactJws + assertion/header.ts checkIdJagHeader", () => {
  it("splits any string into a header and payload object, or a known structure refusal", async () => {
    await check("assertion/jws parseCompactJws", fc.property(compactLike(idJagHeader, idJagClaims), (compact) => {
      const r = parseCompactJws(compact);
      expectKnownOutcome(r, ["jws_malformed", "jwe_unsupported", "duplicate_json_member"]);
      if (r.ok) {
        for (const part of [r.value.header, r.value.payload]) expect(part !== null && typeof part === "object" && !Array.isArray(part)).toBe(true);
      }
    }));
  }, TIMEOUT_MS);
  it("checks any header object: typ, alg, crit, kid or a known refusal", async () => {
    await check("assertion/header checkIdJagHeader", fc.property(fc.oneof(idJagHeader, jsonObject), (header) => {
      const r = checkIdJagHeader(header);
      expectKnownOutcome(r, STRUCTURE_REASONS);
      if (r.ok) expect(["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"]).toContain(r.value.alg);
    }));
  }, TIMEOUT_MS);
});

describe("assertion/claims.ts", () => {
  it("reads and checks any claims set at any clock: typed claims or a known claim refusal", async () => {
    await check(
      "assertion/claims readIdJagClaims..checkClientBinding",
      fc.property(fc.oneof({ weight: 4, arbitrary: idJagClaims }, { weight: 1, arbitrary: jsonObject }), now, fc.integer({ min: 0, max: 86_400 }), (payload, clock, maxLifetime) => {
        const read = readIdJagClaims(payload);
        expectKnownOutcome(read, CLAIM_REASONS);
        if (!read.ok) return;
        const c = read.value;
        expect(typeof c.iss === "string" && typeof c.sub === "string" && typeof c.aud === "string" && Number.isSafeInteger(c.exp) && Number.isSafeInteger(c.iat)).toBe(true);
        for (const r of [checkValidityWindow(c, clock), checkLifetime(c, maxLifetime), checkAudience(c, new Set(["https://as.example.test"])), checkClientBinding(c, "client-1")]) {
          expectKnownOutcome(r, CLAIM_REASONS);
        }
      }),
    );
  }, TIMEOUT_MS);
  it("reads the policy attributes (groups, email, amr) of any payload, under any groups claim name", async () => {
    await check("assertion/claims readSubjectAttributes", fc.property(fc.oneof(idJagClaims, jsonObject), fc.constantFrom("groups", "roles", "__proto__", "constructor", ""), (payload, claim) => {
      const r = readSubjectAttributes(payload, claim);
      expectKnownOutcome(r, ["claim_type_invalid"]);
      if (r.ok) expect(r.value.groups.every((g) => typeof g === "string")).toBe(true);
    }));
  }, TIMEOUT_MS);
});

const ISSUER = "https://as.example.test";
const TOKEN_ENDPOINT = `${ISSUER}/oauth2/token`;
const clientHeader = mutated(
  { alg: "ES256", typ: "JWT", kid: "client-key-1" },
  { alg: fc.constantFrom("RS256", "ES384", "HS256", "none"), typ: fc.constantFrom("client-authentication+jwt", "application/JWT", "oauth-id-jag+jwt", "at+jwt"), kid: fc.constantFrom("other", 7, ""), crit: fc.constant(["b64"]) },
);
const clientClaims = mutated(
  { iss: "client-1", sub: "client-1", aud: ISSUER, exp: NOW + 60, iat: NOW, jti: "jti-1" },
  { aud: fc.constantFrom(TOKEN_ENDPOINT, [TOKEN_ENDPOINT], [ISSUER, "x"], [], "x"), exp: time, iat: time, nbf: time, jti: fc.oneof(nearLimit(256), fc.constant("")), sub: fc.constantFrom("client-2", "") },
);

describe("client/assertion.ts", () => {
  it("reads any client assertion and type: the client it names, or a known defect", async () => {
    const assertion = fc.oneof(compactLike(clientHeader, clientClaims), nearLimit(8192, "a").map((s) => `e30.e30.${s}`));
    const type = fc.oneof({ weight: 5, arbitrary: fc.constant(JWT_BEARER_ASSERTION_TYPE) }, { weight: 1, arbitrary: fc.string() });
    await check("client/assertion readClientAssertion", fc.property(assertion, type, (a, t) => {
      const r = readClientAssertion(a, t);
      expectKnownOutcome(r, ["client_assertion_invalid"]);
      if (!r.ok) expect(ASSERTION_DEFECTS.has(r.error.detail)).toBe(true);
      else expect(r.value.clientId).toBe(r.value.payload.iss);
    }));
  }, TIMEOUT_MS);
  it("validates any claims at any clock: jti and exp, or a known defect", async () => {
    await check("client/assertion validateClientAssertionClaims", fc.property(fc.oneof(clientClaims, jsonObject), fc.boolean(), now, (claims, explicitlyTyped, clock) => {
      const r = validateClientAssertionClaims(claims, { issuer: ISSUER, tokenEndpoint: TOKEN_ENDPOINT, explicitlyTyped }, clock);
      expectKnownOutcome(r, ["client_assertion_invalid"]);
      if (!r.ok) expect(ASSERTION_DEFECTS.has(r.error.detail)).toBe(true);
    }));
  }, TIMEOUT_MS);
  it("verifies really signed assertions with mutated headers, claims and registered keys: a replay key or a known defect", async () => {
    const es = await makeKey("ES256", "client-key-1");
    const rs = await makeKey("RS256", "client-key-2");
    const jwk = (k: typeof es) => k.publicJwk as unknown as Record<string, unknown>;
    const keys = fc.array(
      fc.oneof(
        fc.constant(jwk(es)),
        fc.constant(jwk(rs)),
        mutated(jwk(es), { crv: fc.constantFrom("P-384", "P-256"), x: fc.constantFrom("AAAA", "", "!!"), kid: fc.constantFrom("client-key-2"), key_ops: fc.constantFrom(["verify"], "verify", ["sign"]), use: fc.constantFrom("enc", "sig") }),
        mutated(jwk(rs), { n: fc.constantFrom("AQAB", ""), e: fc.constantFrom("AAAA", 3), alg: fc.constantFrom("RS512", "PS256") }),
        jsonObject,
      ),
      { maxLength: 3 },
    );
    // Signed with one of the real keys, under a header and claims mutated before signing.
    const signed = fc.tuple(fc.constantFrom(es, rs), clientClaims, mutated({ typ: "JWT" }, { typ: fc.constantFrom("client-authentication+jwt"), kid: fc.constantFrom("client-key-1", "client-key-2", "x") }), fc.nat(40));
    await check(
      "client/assertion verifyClientAssertion (signed)",
      fc.asyncProperty(signed, keys, now, async ([key, claims, header, flip], registered, clock) => {
        // Only what JSON can carry reaches a real token (Infinity and NaN become null).
        let compact = await new SignJWT(JSON.parse(JSON.stringify(claims))).setProtectedHeader({ ...header, alg: key.publicJwk.alg! } as never).sign(key.privateKey);
        if (flip > 30) compact = compact.slice(0, -2) + (compact.endsWith("AA") ? "BB" : "AA");
        const read = readClientAssertion(compact, JWT_BEARER_ASSERTION_TYPE);
        expectKnownOutcome(read, ["client_assertion_invalid"]);
        if (!read.ok) return;
        const r = await verifyClientAssertion(read.value, registered as unknown as JsonWebKey[], { issuer: ISSUER, tokenEndpoint: TOKEN_ENDPOINT }, clock);
        expectKnownOutcome(r, ["client_assertion_invalid"]);
        if (!r.ok) expect(ASSERTION_DEFECTS.has(r.error.detail)).toBe(true);
        expectKnownOutcome(selectKey(registered as unknown as JsonWebKey[], { alg: read.value.alg, kid: read.value.kid }), ["kid_unknown", "key_ambiguous"]);
      }),
    );
  }, TIMEOUT_MS);
});

