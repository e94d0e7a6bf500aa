// The ID-JAG claims set (ID-JAG §3.1; RFC 7519 §4.1; RFC 7523 §3): types and presence, the validity
// window, lifetime, audience and client binding. Pure: `now` (epoch seconds) is a parameter.
import { ok, refuse, type Result } from "../../lib/result";
import type { ClaimRefusal } from "../oauth/refusal";

/** Allowed clock difference between the IdP and us, for exp, nbf and iat. Deployment-wide, so an
 * expired assertion is refused identically whatever its issuer (the check runs before trust). */
export const CLOCK_SKEW_SECONDS = 60;
/** Default ceiling on exp − iat; the EMA examples and Okta use 300 s. Per issuer in policy:v1. */
export const DEFAULT_MAX_ASSERTION_LIFETIME_SECONDS = 300;
/** RFC 7519 puts no bound on jti; ours keeps replay-ledger keys small. */
export const MAX_JTI_LENGTH = 256;

export interface IdJagClaims {
  iss: string;
  sub: string;
  /** The single audience, whether sent as a string or a one-element array. */
  aud: string;
  client_id: string;
  jti: string;
  exp: number;
  iat: number;
  nbf?: number;
  auth_time?: number;
  scope?: string;
  resource?: string | string[];
  tenant?: string;
  act?: Record<string, unknown>;
}

const isNumericDate = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isNonEmptyString = (v: unknown): v is string => typeof v === "string" && v.length > 0;

/** Checks presence and types of every claim we use, and refuses the ones we cannot honour yet. */
export function readIdJagClaims(payload: Record<string, unknown>): Result<IdJagClaims, ClaimRefusal> {
  for (const claim of ["iss", "sub", "aud", "client_id", "jti", "exp", "iat"] as const) {
    if (payload[claim] === undefined || payload[claim] === null) return refuse({ reason: "claim_missing", claim });
  }
  const p = payload;
  for (const claim of ["iss", "sub", "client_id"] as const) {
    if (!isNonEmptyString(p[claim])) return refuse({ reason: "claim_type_invalid", claim });
  }
  if (typeof p.jti !== "string") return refuse({ reason: "claim_type_invalid", claim: "jti" });
  if (p.jti.length === 0 || p.jti.length > MAX_JTI_LENGTH) return refuse({ reason: "jti_invalid" });
  for (const claim of ["exp", "iat", "nbf", "auth_time"] as const) {
    if (p[claim] !== undefined && !isNumericDate(p[claim])) return refuse({ reason: "claim_type_invalid", claim });
  }

  const aud = readSingleAudience(p.aud);
  if (!aud.ok) return aud;

  for (const claim of ["scope", "tenant"] as const) {
    if (p[claim] !== undefined && typeof p[claim] !== "string") return refuse({ reason: "claim_type_invalid", claim });
  }
  const resource = p.resource;
  if (
    resource !== undefined &&
    typeof resource !== "string" &&
    !(Array.isArray(resource) && resource.length > 0 && resource.every((r) => typeof r === "string"))
  ) {
    return refuse({ reason: "claim_type_invalid", claim: "resource" });
  }
  if (p.act !== undefined && (typeof p.act !== "object" || p.act === null || Array.isArray(p.act))) {
    return refuse({ reason: "claim_type_invalid", claim: "act" });
  }
  // Fail closed on what we do not implement: honouring the grant without the sender constraint or
  // the fine-grained authorization would grant more than the IdP meant (spec notes §3.4, §4.13).
  if (p.cnf !== undefined) return refuse({ reason: "cnf_unsupported" });
  if (p.authorization_details !== undefined) return refuse({ reason: "authorization_details_unsupported" });

  return ok({
    iss: p.iss as string,
    sub: p.sub as string,
    aud: aud.value,
    client_id: p.client_id as string,
    jti: p.jti,
    exp: p.exp as number,
    iat: p.iat as number,
    ...(p.nbf !== undefined && { nbf: p.nbf as number }),
    ...(p.auth_time !== undefined && { auth_time: p.auth_time as number }),
    ...(p.scope !== undefined && { scope: p.scope as string }),
    ...(resource !== undefined && { resource: resource as string | string[] }),
    ...(p.tenant !== undefined && { tenant: p.tenant as string }),
    ...(p.act !== undefined && { act: p.act as Record<string, unknown> }),
  });
}

/** `aud` is a string or an array with exactly one element (ID-JAG §4.4.1). */
function readSingleAudience(aud: unknown): Result<string, ClaimRefusal> {
  if (isNonEmptyString(aud)) return ok(aud);
  if (!Array.isArray(aud) || aud.length === 0) return refuse({ reason: "claim_type_invalid", claim: "aud" });
  if (aud.length > 1) return refuse({ reason: "aud_multiple", count: aud.length });
  return isNonEmptyString(aud[0]) ? ok(aud[0]) : refuse({ reason: "claim_type_invalid", claim: "aud" });
}

/** exp, nbf and iat against the clock, with CLOCK_SKEW_SECONDS of tolerance (RFC 7523 §3). */
export function checkValidityWindow(claims: IdJagClaims, now: number): Result<IdJagClaims, ClaimRefusal> {
  const skewSeconds = CLOCK_SKEW_SECONDS;
  if (now > claims.exp + skewSeconds) return refuse({ reason: "expired", exp: claims.exp, now, skewSeconds });
  if (claims.nbf !== undefined && claims.nbf > now + skewSeconds) {
    return refuse({ reason: "not_yet_valid", nbf: claims.nbf, now, skewSeconds });
  }
  if (claims.iat > now + skewSeconds) return refuse({ reason: "issued_in_future", iat: claims.iat, now, skewSeconds });
  return ok(claims);
}

/**
 * The issuer's lifetime ceiling on exp − iat. A long-lived assertion is a long-lived bearer
 * credential; EMA asks for minutes. With the expiry check this also bounds the age of `iat`
 * (now − iat ≤ max + skew), so no separate age check is needed.
 */
export function checkLifetime(claims: IdJagClaims, maxLifetime: number): Result<IdJagClaims, ClaimRefusal> {
  const lifetime = claims.exp - claims.iat;
  return lifetime > maxLifetime ? refuse({ reason: "lifetime_too_long", lifetime, max: maxLifetime }) : ok(claims);
}

/** `aud` must be our issuer identifier (or a configured alias), compared exactly. */
export function checkAudience(claims: IdJagClaims, accepted: ReadonlySet<string>): Result<IdJagClaims, ClaimRefusal> {
  return accepted.has(claims.aud) ? ok(claims) : refuse({ reason: "aud_mismatch" });
}

/** The assertion's `client_id` must be the client that authenticated (ID-JAG §4.4.1). */
export function checkClientBinding(claims: IdJagClaims, clientId: string): Result<IdJagClaims, ClaimRefusal> {
  return claims.client_id === clientId ? ok(claims) : refuse({ reason: "client_id_mismatch" });
}

/** Enough for any real directory; bounds policy work on hostile input. */
export const MAX_GROUPS = 1000;

export interface SubjectAttributes {
  groups: string[];
  email?: string;
  amr?: string[];
}

/**
 * The claims group policy reads, from the verified payload: the issuer's groups claim (absent → no
 * groups), `email`, `amr`. A wrongly typed one is refused rather than read as "no groups", so an
 * IdP misconfiguration shows up instead of silently narrowing access.
 */
export function readSubjectAttributes(payload: Record<string, unknown>, groupsClaim: string): Result<SubjectAttributes, ClaimRefusal> {
  const groups = payload[groupsClaim] ?? [];
  if (!isStringArray(groups) || groups.length > MAX_GROUPS) return refuse({ reason: "claim_type_invalid", claim: groupsClaim });
  if (payload.email !== undefined && typeof payload.email !== "string") return refuse({ reason: "claim_type_invalid", claim: "email" });
  if (payload.amr !== undefined && !isStringArray(payload.amr)) return refuse({ reason: "claim_type_invalid", claim: "amr" });
  return ok({
    groups,
    ...(payload.email !== undefined && { email: payload.email as string }),
    ...(payload.amr !== undefined && { amr: payload.amr as string[] }),
  });
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");
