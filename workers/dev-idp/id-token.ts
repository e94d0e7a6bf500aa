// OIDC ID tokens: minting one at /dev/login, and verifying one presented back as the exchange's
// subject_token (ID-JAG §4.3.3: "validate the subject token; its aud must be the authenticated
// client"). Only tokens this IdP issued are accepted: its key, its issuer, `typ: JWT`, unexpired.
import { compactVerify, decodeProtectedHeader, SignJWT } from "jose";
import { ok, refuse, type Result } from "../lib/result";
import type { DirectoryUser } from "./directory";
import type { Reason } from "./errors";
import type { SigningKey } from "./keys";

/** An hour, as Okta's ID tokens: long enough to exchange several times in a demo. */
export const ID_TOKEN_TTL_SECONDS = 3600;
/** What ID tokens carry and subject tokens must carry; the ID-JAG and SETs use other types. */
const ID_TOKEN_TYP = "JWT";

export interface IdTokenInput {
  issuer: string;
  clientId: string;
  user: DirectoryUser;
  groups: readonly string[];
  now: number;
}

export async function mintIdToken(input: IdTokenInput, key: SigningKey): Promise<string> {
  const { issuer, clientId, user, groups, now } = input;
  return new SignJWT({
    auth_time: now,
    amr: [...user.amr],
    email: user.email,
    email_verified: true,
    name: user.displayName,
    preferred_username: user.name,
    groups: [...groups],
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: ID_TOKEN_TYP })
    .setIssuer(issuer)
    .setSubject(user.sub)
    .setAudience(clientId)
    .setIssuedAt(now)
    .setExpirationTime(now + ID_TOKEN_TTL_SECONDS)
    .setJti(crypto.randomUUID())
    .sign(key.privateKey);
}

export interface VerifiedIdToken {
  sub: string;
  iat: number;
  exp: number;
  /** auth_time, or iat when absent: when the person logged in. */
  authTime: number;
}

type IdTokenRefusal = Extract<Reason, `subject_token_${string}`>;

/** Header, signature, then claims. `now` is epoch seconds. */
export async function verifyIdToken(token: string, key: SigningKey, expected: { issuer: string; clientId: string }, now: number): Promise<Result<VerifiedIdToken, IdTokenRefusal>> {
  const header = checkHeader(token, key);
  if (!header.ok) return header;
  let payload: unknown;
  try {
    const verified = await compactVerify(token, key.publicKey, { algorithms: [key.alg] });
    payload = JSON.parse(new TextDecoder().decode(verified.payload));
  } catch (error) {
    // jose throws for a bad signature and for a payload that is not JSON; only the first is ours to name.
    return refuse(isSignatureFailure(error) ? "subject_token_signature_invalid" : "subject_token_malformed");
  }
  return validateIdTokenClaims(payload, expected, now);
}

/**
 * Claims of an ID token whose signature verified. Pure. Expired means `exp ≤ now` (RFC 7519 §4.1.4:
 * "on or after"), with no skew: the IdP checks its own tokens with its own clock. The audience is a
 * string or a one-element array.
 */
export function validateIdTokenClaims(payload: unknown, expected: { issuer: string; clientId: string }, now: number): Result<VerifiedIdToken, IdTokenRefusal> {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return refuse("subject_token_malformed");
  const p = payload as Record<string, unknown>;
  if (p.iss !== expected.issuer) return refuse("subject_token_issuer_mismatch");
  const aud = Array.isArray(p.aud) && p.aud.length === 1 ? p.aud[0] : p.aud;
  if (aud !== expected.clientId) return refuse("subject_token_audience_mismatch");
  if (typeof p.sub !== "string" || p.sub === "" || !isNumericDate(p.iat) || !isNumericDate(p.exp)) return refuse("subject_token_claim_invalid");
  if (p.auth_time !== undefined && !isNumericDate(p.auth_time)) return refuse("subject_token_claim_invalid");
  if (p.exp <= now) return refuse("subject_token_expired");
  if (p.iat > now) return refuse("subject_token_issued_in_future");
  return ok({ sub: p.sub, iat: p.iat, exp: p.exp, authTime: (p.auth_time as number | undefined) ?? p.iat });
}

/**
 * `typ: JWT` keeps an ID-JAG or a SET, signed with the same key, from passing as an ID token; the
 * kid and alg must be this IdP's, so a token from anywhere else is named as such before any crypto.
 */
function checkHeader(token: string, key: SigningKey): Result<true, IdTokenRefusal> {
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(token) as Record<string, unknown>;
  } catch {
    return refuse("subject_token_malformed");
  }
  if (typeof header.typ !== "string" || header.typ.toUpperCase() !== ID_TOKEN_TYP) return refuse("subject_token_typ_invalid");
  if (header.kid !== key.kid || header.alg !== key.alg) return refuse("subject_token_key_unknown");
  return ok(true);
}

function isSignatureFailure(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "ERR_JWS_SIGNATURE_VERIFICATION_FAILED";
}

const isNumericDate = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
