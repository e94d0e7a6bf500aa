// SHA-256 helpers for identifiers that must not appear in clear in KV keys, logs or shard names
// (subjects, jtis, issuers), and a constant-time comparison for secrets.
import { encodeBase64Url } from "./base64url";

const encoder = new TextEncoder();

/** SHA-256 of a UTF-8 string, base64url (43 characters). */
export async function sha256Base64Url(value: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(value));
  return encodeBase64Url(new Uint8Array(digest));
}

/**
 * Compares two byte strings without an early exit, so the time taken does not reveal how many
 * leading bytes matched. Lengths are not secret here (both sides are fixed-size digests).
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
