// The KV mirror of revocations (`revoked:v1:…`), for checkers that cannot call the SubjectShard:
// an MCP server's verifier. The Durable Object stays authoritative; the mirror is written right
// after it and read with bounded staleness (KV's edge cache). Entries expire once no token they
// could refuse can still be alive. Shared by the Worker (writer) and the verifier (reader).
import { sha256Base64Url } from "./digest";

/** The longest access-token lifetime policy allows (kv-schemas: access_token_ttl_seconds ≤ 3600). */
export const MAX_ACCESS_TOKEN_TTL_SECONDS = 3600;
/** KV refuses an expiration closer than this. */
const KV_MIN_TTL_SECONDS = 60;
const SKEW_SECONDS = 60;

export interface SubjectRef {
  iss: string;
  tenant?: string;
  sub: string;
}

export interface SubjectRevocationRecord {
  iss: string;
  tenant?: string;
  sub: string;
  revoked_before: number;
  channel: string;
  event_type: string;
  updated_at: number;
}

/** One string per distinct subject; the separators cannot occur inside an issuer URI. */
export const subjectString = (s: SubjectRef): string => `${s.iss}\n${s.tenant ?? ""}\n${s.sub}`;

export async function subjectMirrorKey(subject: SubjectRef): Promise<string> {
  const [issuer, subjectKey] = await Promise.all([sha256Base64Url(subject.iss), sha256Base64Url(subjectString(subject))]);
  return `revoked:v1:${issuer}:${subjectKey}`;
}

export async function tokenMirrorKey(jti: string): Promise<string> {
  return `revoked:v1:token:${await sha256Base64Url(`at\n${jti}`)}`;
}

/** KV expirationTtl for an entry that matters until `until` (epoch seconds). */
export function mirrorTtl(until: number, now: number): number {
  return Math.max(KV_MIN_TTL_SECONDS, until - now);
}

/** Until when a subject revocation can refuse a token: the newest token it covers, plus its life. */
export const subjectMirrorUntil = (revokedBefore: number) => revokedBefore + MAX_ACCESS_TOKEN_TTL_SECONDS + SKEW_SECONDS;

/**
 * Whether the mirror says this access token is revoked: its subject revoked at or after its `iat`,
 * or the token itself revoked. `cacheTtl` bounds how stale an edge location's answer may be.
 */
export async function isRevokedInMirror(
  kv: KVNamespace,
  token: { idp: string; tenant?: string; sub: string; jti: string; iat: number },
  cacheTtl = 30,
): Promise<boolean> {
  const subject: SubjectRef = { iss: token.idp, sub: token.sub, ...(token.tenant !== undefined && { tenant: token.tenant }) };
  const [subjectKey, tokenKey] = await Promise.all([subjectMirrorKey(subject), tokenMirrorKey(token.jti)]);
  const [record, denied] = await Promise.all([kv.get<SubjectRevocationRecord>(subjectKey, { type: "json", cacheTtl }), kv.get(tokenKey, { cacheTtl })]);
  return denied !== null || (record !== null && token.iat <= record.revoked_before);
}

/**
 * The email → subject index Universal Logout needs (Okta names the user by email by default). Written
 * by the SubjectShard the first time it sees a subject with an email; a value is a SubjectRef.
 */
export async function emailIndexKey(iss: string, email: string): Promise<string> {
  const [issuer, address] = await Promise.all([sha256Base64Url(iss), sha256Base64Url(email.trim().toLowerCase())]);
  return `email:v1:${issuer}:${address}`;
}
