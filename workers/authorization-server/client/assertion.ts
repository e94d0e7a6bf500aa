// private_key_jwt: verifies a client assertion (RFC 7523 §2.2, §3; draft-ietf-oauth-rfc7523bis).
// Two steps: `readClientAssertion` parses it, checks the header and finds which client it names
// (nothing in it is trusted yet); `verifyClientAssertion` checks the signature with a key from that
// client's registered JWKS and then the claims. Replay (single use of `jti`) is the caller's.
import { importJWK, type CryptoKey } from "jose";
import { decodeBase64Url } from "../../lib/base64url";
import type { SignatureAlgorithm } from "../../lib/kv-records";
import { ok, refuse, type Result } from "../../lib/result";
import { parseStrictJson } from "../../lib/strict-json";
import { CLOCK_SKEW_SECONDS, MAX_JTI_LENGTH } from "../assertion/claims";
import { SIGNATURE_ALGORITHMS } from "../assertion/header";
import { verifySignature } from "../assertion/signature";
import { selectKey } from "../jwks/select";

/** RFC 7523 §2.2: the only client_assertion_type accepted. */
export const JWT_BEARER_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/** Bounds parsing and signature work on input an unauthenticated caller chose. */
export const MAX_CLIENT_ASSERTION_BYTES = 8192;
/** An assertion may not live longer than this from now (plus skew): it is a one-shot credential. */
export const MAX_CLIENT_ASSERTION_LIFETIME_SECONDS = 300;

/**
 * The rule an assertion broke: audited, never shown to the caller. A fixed vocabulary, so no part
 * of the token can end up in a log through it.
 */
export type AssertionDefect =
  | "client_assertion_type" | "too_large" | "malformed" | "jwe" | "duplicate_member"
  | "alg" | "typ" | "crit" | "kid" | "iss_sub" | "client_id"
  | "key_unknown" | "key_ambiguous" | "key_unusable" | "signature"
  | "aud" | "exp" | "expired" | "nbf" | "not_yet_valid" | "iat" | "iat_future" | "lifetime" | "jti";

export type AssertionRefusal = { reason: "client_assertion_invalid"; detail: AssertionDefect };

const defect = (detail: AssertionDefect) => refuse<AssertionRefusal>({ reason: "client_assertion_invalid", detail });

/** A parsed assertion whose signature has not been checked: only fit for finding the client. */
export interface UnverifiedClientAssertion {
  /** The client the assertion claims to come from (its `iss`, equal to its `sub`). */
  clientId: string;
  alg: SignatureAlgorithm;
  kid: string | undefined;
  /** `typ` is client-authentication+jwt: the client follows draft-ietf-oauth-rfc7523bis. */
  explicitlyTyped: boolean;
  payload: Record<string, unknown>;
  compact: string;
}

/** The accepted `aud` values: our RFC 8414 issuer and our token endpoint URL. */
export interface AssertionAudience {
  issuer: string;
  tokenEndpoint: string;
}

/** What a verified assertion hands the caller's replay ledger. */
export interface VerifiedClientAssertion {
  jti: string;
  exp: number;
}

// `typ` may be absent or generic (RFC 7523 predates explicit typing), or the rfc7523bis type.
// Any other explicit type means a different kind of JWT, e.g. an ID-JAG (oauth-id-jag+jwt) or an
// access token (at+jwt) the client holds: taking one as a client assertion is token confusion.
const GENERIC_TYP = /^(?:application\/)?jwt$/i;
const CLIENT_AUTH_TYP = /^(?:application\/)?client-authentication\+jwt$/i;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isNumericDate = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

type SegmentRead = Result<Record<string, unknown>, AssertionRefusal>;

function readJsonSegment(segment: string): SegmentRead {
  const bytes = decodeBase64Url(segment);
  if (!bytes) return defect("malformed");
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return defect("malformed");
  }
  const parsed = parseStrictJson(text);
  if (!parsed.ok) return defect(parsed.error === "duplicate_member" ? "duplicate_member" : "malformed");
  return isObject(parsed.value) ? ok(parsed.value) : defect("malformed");
}

/**
 * Parses a client assertion and checks everything that needs no key: the assertion type, size,
 * compact JWS structure, strict JSON, `alg`, `typ`, `crit`, and that `iss` = `sub` names a client.
 */
export function readClientAssertion(
  assertion: string,
  assertionType: string,
): Result<UnverifiedClientAssertion, AssertionRefusal> {
  if (assertionType !== JWT_BEARER_ASSERTION_TYPE) return defect("client_assertion_type");
  // A compact JWS is ASCII, so characters are bytes; anything else fails base64url below.
  if (assertion.length > MAX_CLIENT_ASSERTION_BYTES) return defect("too_large");

  const segments = assertion.split(".");
  if (segments.length === 5) return defect("jwe");
  if (segments.length !== 3) return defect("malformed");
  const [h, p, s] = segments as [string, string, string];
  if (!decodeBase64Url(s)) return defect("malformed");
  const header = readJsonSegment(h);
  if (!header.ok) return header;
  const payload = readJsonSegment(p);
  if (!payload.ok) return payload;

  const { alg, typ, kid } = header.value;
  // Asymmetric only (the ID-JAG's set): HS* would make the registered public key a shared secret.
  if (typeof alg !== "string" || !SIGNATURE_ALGORITHMS.has(alg)) return defect("alg");
  if (typ !== undefined && (typeof typ !== "string" || !(GENERIC_TYP.test(typ) || CLIENT_AUTH_TYP.test(typ)))) {
    return defect("typ");
  }
  // No extension is understood here, and RFC 7515 §4.1.11 says to refuse any that is critical.
  if ("crit" in header.value) return defect("crit");
  if (kid !== undefined && typeof kid !== "string") return defect("kid");

  // RFC 7523 §3 items 1–2: a client assertion is issued by the client about itself.
  const { iss, sub } = payload.value;
  if (typeof iss !== "string" || iss === "" || iss !== sub) return defect("iss_sub");

  return ok({
    clientId: iss,
    alg: alg as SignatureAlgorithm,
    kid,
    explicitlyTyped: typeof typ === "string" && CLIENT_AUTH_TYP.test(typ),
    payload: payload.value,
    compact: assertion,
  });
}

/** Only the public members of a registered key: a stray private part must never be imported. */
function publicPart(jwk: JsonWebKey): JsonWebKey {
  const { kty, n, e, crv, x, y } = jwk;
  return { kty, n, e, crv, x, y };
}

/**
 * Verifies the signature with the key `selectKey` picks from `keys` (the client's registered
 * JWKS; never a key named by the token's own `jku`/`jwk`/`x5u`), then the claims.
 */
export async function verifyClientAssertion(
  assertion: UnverifiedClientAssertion,
  keys: readonly JsonWebKey[],
  audience: AssertionAudience,
  now: number,
): Promise<Result<VerifiedClientAssertion, AssertionRefusal>> {
  const selected = selectKey(keys, { alg: assertion.alg, kid: assertion.kid });
  if (!selected.ok) return defect(selected.error.reason === "key_ambiguous" ? "key_ambiguous" : "key_unknown");

  let key: CryptoKey;
  try {
    // An asymmetric alg (checked in readClientAssertion) always imports as a CryptoKey.
    key = (await importJWK(publicPart(selected.value), assertion.alg)) as CryptoKey;
  } catch {
    return defect("key_unusable");
  }
  // One key and the one alg already checked, as for the ID-JAG: jose cannot be steered to another.
  if (!(await verifySignature(assertion.compact, key, assertion.alg)).ok) return defect("signature");
  return validateClientAssertionClaims(assertion.payload, { ...audience, explicitlyTyped: assertion.explicitlyTyped }, now);
}

/**
 * The claim rules of RFC 7523 §3 with our limits: `aud` names us, `exp` is required and near,
 * `iat`/`nbf` are not in the future, `jti` is present for the replay ledger. Pure.
 */
export function validateClientAssertionClaims(
  claims: Record<string, unknown>,
  expected: AssertionAudience & { explicitlyTyped: boolean },
  now: number,
): Result<VerifiedClientAssertion, AssertionRefusal> {
  if (!audienceMatches(claims.aud, expected)) return defect("aud");

  const { exp, iat, nbf, jti } = claims;
  if (!isNumericDate(exp)) return defect("exp");
  if (now > exp + CLOCK_SKEW_SECONDS) return defect("expired");
  if (exp - now > MAX_CLIENT_ASSERTION_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS) return defect("lifetime");
  if (nbf !== undefined) {
    if (!isNumericDate(nbf)) return defect("nbf");
    if (nbf > now + CLOCK_SKEW_SECONDS) return defect("not_yet_valid");
  }
  if (iat !== undefined) {
    if (!isNumericDate(iat)) return defect("iat");
    if (iat > now + CLOCK_SKEW_SECONDS) return defect("iat_future");
  }
  if (typeof jti !== "string" || jti.length === 0 || jti.length > MAX_JTI_LENGTH) return defect("jti");
  return ok({ jti, exp });
}

/**
 * RFC 7523 §3: `aud` must identify us; the issuer or the token endpoint, as a string or among an
 * array's values. An explicitly typed (rfc7523bis) assertion must instead carry exactly our issuer
 * as a plain string: that draft forbids the token endpoint and arrays, which let an assertion made
 * for one server be replayed at another that shares the endpoint URL or the array.
 */
function audienceMatches(aud: unknown, expected: AssertionAudience & { explicitlyTyped: boolean }): boolean {
  if (expected.explicitlyTyped) return aud === expected.issuer;
  const ours = (v: unknown) => v === expected.issuer || v === expected.tokenEndpoint;
  return Array.isArray(aud) ? aud.some(ours) : ours(aud);
}
