// Webhook and stream secrets: policy keeps only their SHA-256, and a presented value is hashed and
// compared in constant time against each configured hash (two during a rotation), every one of
// them, so timing says nothing about which matched.
import { decodeBase64Url, encodeBase64Url } from "./base64url";
import { timingSafeEqual } from "./digest";

const encoder = new TextEncoder();

/** The policy form of a secret: base64url SHA-256 (43 characters). */
export async function hashSharedSecret(secret: string): Promise<string> {
  return encodeBase64Url(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(secret))));
}

/** Whether `presented` hashes to one of `hashes`. A missing value never matches. */
export async function matchesSharedSecret(presented: string | null, hashes: readonly string[]): Promise<boolean> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(presented ?? "")));
  let matched = false;
  for (const hash of hashes) {
    const expected = decodeBase64Url(hash);
    matched = (expected !== undefined && timingSafeEqual(digest, expected)) || matched;
  }
  return presented !== null && presented.length > 0 && matched;
}

/** A new secret for a webhook or stream: 32 random bytes, base64url. */
export function generateSharedSecret(): string {
  return encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}
