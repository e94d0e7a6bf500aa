// The checks of an Okta Universal Logout request (reference §2.7, §8 "Universal Logout endpoint";
// draft-parecki-oauth-global-token-revocation): the bearer JWT's header and claims, and the body's
// `sub_id`. Pure: the clock and the expected values are parameters. Key lookup, the signature,
// single use of `jti` and the subject lookup need I/O and live in universal-logout.ts.
import type { SignatureAlgorithm } from "../../lib/kv-records";
import { ok, refuse, type Result } from "../../lib/result";
import { parseStrictJson } from "../../lib/strict-json";
import { CLOCK_SKEW_SECONDS, MAX_JTI_LENGTH } from "../assertion/claims";
import { SIGNATURE_ALGORITHMS } from "../assertion/header";

/** Okta mints the logout JWT with exp = iat + 5 min (§2.7); a later exp is not Okta's. */
export const MAX_LOGOUT_TOKEN_LIFETIME_SECONDS = 300;
/** A signed JWT of a few claims is well under 2 KiB; the cap stops crypto work on junk. */
export const MAX_LOGOUT_TOKEN_BYTES = 8 * 1024;
/** RFC 5321 bounds an address at 320 octets (64 + @ + 255). */
const MAX_EMAIL_LENGTH = 320;
const MAX_SUBJECT_LENGTH = 255;

/** `typ` of the logout JWT, with or without the `application/` prefix (RFC 7515 §4.1.9). */
const LOGOUT_TYPES: ReadonlySet<string> = new Set(["global-token-revocation+jwt", "application/global-token-revocation+jwt"]);

export type LogoutRefusal =
  // The bearer JWT: every one of these is a 401.
  | { reason: "bearer_missing" }
  | { reason: "token_malformed"; detail: string }
  | { reason: "typ_invalid"; typ: string | null }
  | { reason: "alg_not_allowed"; alg: string | null }
  | { reason: "crit_unsupported" }
  | { reason: "kid_unknown"; kid: string | null }
  | { reason: "key_ambiguous" }
  | { reason: "signature_invalid" }
  | { reason: "jwks_unavailable"; detail: string }
  | { reason: "claim_missing"; claim: string }
  | { reason: "iss_mismatch" }
  | { reason: "aud_mismatch" }
  | { reason: "sub_mismatch" }
  | { reason: "expired"; exp: number; now: number }
  | { reason: "exp_too_far"; exp: number; now: number }
  | { reason: "not_yet_valid"; nbf: number; now: number }
  | { reason: "issued_in_future"; iat: number; now: number }
  | { reason: "jti_reused" }
  // The body: 400, or 404 for a subject we never saw.
  | { reason: "body_not_json" }
  | { reason: "duplicate_json_member" }
  | { reason: "sub_id_missing" }
  | { reason: "sub_id_format_unsupported"; format: string | null }
  | { reason: "sub_id_invalid"; field: string }
  | { reason: "subject_issuer_mismatch" }
  | { reason: "subject_unknown" };

/** The compact JWT from `Authorization: Bearer …` (RFC 6750 §2.1: scheme case-insensitive). */
export function readBearer(authorization: string | null): Result<string, LogoutRefusal> {
  const match = authorization === null ? null : /^bearer +([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization);
  if (match === null) return refuse({ reason: "bearer_missing" });
  if (match[1]!.length > MAX_LOGOUT_TOKEN_BYTES) return refuse({ reason: "token_malformed", detail: "too_large" });
  return ok(match[1]!);
}

/**
 * The JOSE header: explicit typing, so an ID token or ID-JAG signed with the same org key cannot be
 * replayed as a logout (RFC 8725 §3.11); an `alg` the issuer allows; no `crit` we would ignore.
 */
export function checkLogoutHeader(header: Record<string, unknown>, allowed: readonly SignatureAlgorithm[]): Result<{ alg: SignatureAlgorithm; kid?: string }, LogoutRefusal> {
  const { typ, alg, kid, crit } = header;
  if (typeof typ !== "string" || !LOGOUT_TYPES.has(typ.toLowerCase())) return refuse({ reason: "typ_invalid", typ: typeof typ === "string" ? typ.slice(0, 64) : null });
  if (typeof alg !== "string" || !SIGNATURE_ALGORITHMS.has(alg) || !allowed.includes(alg as SignatureAlgorithm)) {
    return refuse({ reason: "alg_not_allowed", alg: typeof alg === "string" ? alg.slice(0, 16) : null });
  }
  if (crit !== undefined) return refuse({ reason: "crit_unsupported" });
  if (kid !== undefined && (typeof kid !== "string" || kid.length === 0 || kid.length > 256)) return refuse({ reason: "token_malformed", detail: "kid" });
  return ok({ alg: alg as SignatureAlgorithm, ...(kid !== undefined && { kid: kid as string }) });
}

export interface LogoutExpectations {
  /** The trusted issuer's `iss`. */
  issuer: string;
  /** This endpoint's exact URL (§2.7: "exact endpoint URL, no query/fragment"). */
  audience: string;
  /** Our app's client id at Okta, the JWT's `sub`. */
  clientId: string;
}

export interface LogoutClaims {
  jti: string;
  exp: number;
}

/**
 * iss, aud, sub exactly; exp, nbf, iat against `now` with CLOCK_SKEW_SECONDS; exp at most
 * MAX_LOGOUT_TOKEN_LIFETIME_SECONDS ahead, so a token cannot outlive its single-use record; a jti.
 */
export function checkLogoutClaims(payload: Record<string, unknown>, expected: LogoutExpectations, now: number): Result<LogoutClaims, LogoutRefusal> {
  const skew = CLOCK_SKEW_SECONDS;
  if (payload.iss !== expected.issuer) return refuse({ reason: "iss_mismatch" });
  const aud = payload.aud;
  // A one-element array is the same audience; more would let one token serve several endpoints.
  if (!(aud === expected.audience || (Array.isArray(aud) && aud.length === 1 && aud[0] === expected.audience))) return refuse({ reason: "aud_mismatch" });
  if (payload.sub !== expected.clientId) return refuse({ reason: "sub_mismatch" });
  const { exp, iat, nbf, jti } = payload;
  if (!isNumericDate(exp)) return refuse({ reason: "claim_missing", claim: "exp" });
  if (!isNumericDate(iat)) return refuse({ reason: "claim_missing", claim: "iat" });
  if (nbf !== undefined && !isNumericDate(nbf)) return refuse({ reason: "claim_missing", claim: "nbf" });
  if (now > exp + skew) return refuse({ reason: "expired", exp, now });
  if (exp > now + MAX_LOGOUT_TOKEN_LIFETIME_SECONDS + skew) return refuse({ reason: "exp_too_far", exp, now });
  if (nbf !== undefined && nbf > now + skew) return refuse({ reason: "not_yet_valid", nbf: nbf as number, now });
  if (iat > now + skew) return refuse({ reason: "issued_in_future", iat, now });
  if (typeof jti !== "string" || jti.length === 0 || jti.length > MAX_JTI_LENGTH) return refuse({ reason: "claim_missing", claim: "jti" });
  return ok({ jti, exp });
}

/** Whom to log out: our issuer's subject, or an email to look up in the index. */
export type LogoutSubject = { format: "iss_sub"; sub: string } | { format: "email"; email: string };

/**
 * The body `{"sub_id": {...}}` with an `iss_sub` or `email` subject (the two formats Okta sends).
 * An iss_sub of another issuer is refused: the JWT authenticated this issuer, not that one.
 */
export function parseLogoutBody(text: string, issuer: string): Result<LogoutSubject, LogoutRefusal> {
  const parsed = parseStrictJson(text);
  if (!parsed.ok) return refuse({ reason: parsed.error === "duplicate_member" ? "duplicate_json_member" : "body_not_json" });
  const subId = isObject(parsed.value) ? parsed.value.sub_id : undefined;
  if (!isObject(subId)) return refuse({ reason: "sub_id_missing" });
  if (subId.format === "iss_sub") {
    if (!isBoundedString(subId.iss, 2048)) return refuse({ reason: "sub_id_invalid", field: "iss" });
    if (!isBoundedString(subId.sub, MAX_SUBJECT_LENGTH)) return refuse({ reason: "sub_id_invalid", field: "sub" });
    if (subId.iss !== issuer) return refuse({ reason: "subject_issuer_mismatch" });
    return ok({ format: "iss_sub", sub: subId.sub });
  }
  if (subId.format === "email") {
    const email = subId.email;
    if (!isBoundedString(email, MAX_EMAIL_LENGTH) || !/^[^\s@]+@[^\s@]+$/.test(email)) return refuse({ reason: "sub_id_invalid", field: "email" });
    return ok({ format: "email", email });
  }
  return refuse({ reason: "sub_id_format_unsupported", format: typeof subId.format === "string" ? subId.format.slice(0, 32) : null });
}

/** A JSON number that can be a NumericDate: finite and not negative. */
function isNumericDate(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

/** A non-empty string within `max` characters and without control characters. */
function isBoundedString(value: unknown, max: number): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= max && !/[\u0000-\u001f\u007f]/.test(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
