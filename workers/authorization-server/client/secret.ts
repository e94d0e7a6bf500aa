// Client secrets: generating them, the salted hash KV keeps instead of the secret
// (`sha256:<salt>:<digest>`, kv-schemas/client.v1.schema.json), and checking a presented secret
// against the hashes of a record. Generated secrets carry 256 bits of entropy, so one salted
// SHA-256 is enough; a slow password hash would only be needed for human-chosen secrets.
import { decodeBase64Url, encodeBase64Url } from "../../lib/base64url";
import { sha256Base64Url, timingSafeEqual } from "../../lib/digest";

const SALT_BYTES = 16; // 22 base64url characters in the stored format
const SECRET_BYTES = 32; // 43 base64url characters; 256 bits so guessing is hopeless
const STORED_HASH = /^sha256:([A-Za-z0-9_-]{22}):([A-Za-z0-9_-]{43})$/;

/**
 * How many hashes a presented secret is always checked against (the schema's `maxItems`), padded
 * with a dummy: the work then does not depend on whether the client exists or how many secrets it
 * has mid-rotation, so timing tells an attacker neither.
 */
export const SECRET_CHECKS_PER_REQUEST = 4;

// A well-formed hash of nothing anyone holds: what an unknown client's secret is compared with.
// Its result is discarded anyway (verifyClientSecretAmong), so even a preimage would not help.
const DUMMY_HASH = `sha256:${"A".repeat(22)}:${"A".repeat(43)}`;

const encoder = new TextEncoder();

async function digest(salt: Uint8Array, secret: string): Promise<Uint8Array> {
  const secretBytes = encoder.encode(secret);
  const input = new Uint8Array(salt.length + secretBytes.length);
  input.set(salt);
  input.set(secretBytes, salt.length);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", input));
}

/** A new client secret: 32 random bytes, base64url (43 characters). */
export function generateClientSecret(): string {
  return encodeBase64Url(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

/**
 * The stored form of `secret`: `sha256:<salt>:<SHA-256(salt ‖ UTF-8 secret)>`, both base64url.
 * `salt` (16 bytes) defaults to a fresh random one; pass it only to reproduce a known hash.
 */
export async function hashClientSecret(secret: string, salt?: Uint8Array): Promise<string> {
  const s = salt ?? crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  if (s.length !== SALT_BYTES) throw new TypeError(`salt must be ${SALT_BYTES} bytes`);
  return `sha256:${encodeBase64Url(s)}:${encodeBase64Url(await digest(s, secret))}`;
}

/**
 * Whether `secret` hashes to `stored`. The digests are compared in constant time. A stored value
 * that is not in the format is a mismatch, never an exception (it is data, read from KV).
 */
export async function verifyClientSecret(secret: string, stored: string): Promise<boolean> {
  const match = STORED_HASH.exec(stored);
  const salt = match && decodeBase64Url(match[1]!);
  const expected = match && decodeBase64Url(match[2]!);
  if (!salt || !expected || salt.length !== SALT_BYTES) return false;
  return timingSafeEqual(await digest(salt, secret), expected);
}

/**
 * Whether `secret` matches any of `stored`, doing the same work for an empty list as for a full
 * one: every hash is computed (no early exit) and the list is padded with dummies up to
 * SECRET_CHECKS_PER_REQUEST. Pass `[]` for an unknown client.
 */
export async function verifyClientSecretAmong(secret: string, stored: readonly string[]): Promise<boolean> {
  const rounds = Math.max(stored.length, SECRET_CHECKS_PER_REQUEST);
  let matched = false;
  for (let i = 0; i < rounds; i++) {
    const real = i < stored.length;
    const same = await verifyClientSecret(secret, real ? stored[i]! : DUMMY_HASH);
    matched = (real && same) || matched;
  }
  return matched;
}

/**
 * How long an isolate remembers a successful check: the client-record cache's bound
 * (config/client-store.ts CLIENT_CACHE_SECONDS), so a secret never outlives a record copy.
 */
export const VERIFIED_SECRET_CACHE_SECONDS = 15;
/** Real deployments have a handful of clients, each with a secret or two; past this the oldest goes. */
export const MAX_VERIFIED_SECRETS = 256;

// Per isolate, insertion-ordered (first key is the oldest): successful checks only, keyed by
// client_id, SHA-256 of the presented secret, and the exact list of hashes it was checked against.
const verified = new Map<string, number>();

/**
 * verifyClientSecretAmong, remembered for VERIFIED_SECRET_CACHE_SECONDS when it succeeds, so a busy
 * client costs one SHA-256 per request instead of SECRET_CHECKS_PER_REQUEST + 1. The memo key holds
 * the hashes in force, so a rotated, removed or expired secret misses the moment the record the
 * caller passes no longer lists it. A failed check is never remembered: a wrong secret, or any
 * secret for an unknown client, always does the full padded work, so timing still says nothing
 * about whether the client exists; only someone who holds the secret can take the fast path.
 * `now` is epoch seconds.
 */
export async function checkClientSecret(clientId: string, secret: string, stored: readonly string[], now: number): Promise<boolean> {
  const key = `${clientId}\n${await sha256Base64Url(secret)}\n${stored.join(" ")}`;
  const at = verified.get(key);
  // `now < at` means the clock went back: do not trust the entry for longer than intended.
  if (at !== undefined && now >= at && now - at < VERIFIED_SECRET_CACHE_SECONDS) return true;
  if (at !== undefined) verified.delete(key);
  const matched = await verifyClientSecretAmong(secret, stored);
  if (matched) {
    if (verified.size >= MAX_VERIFIED_SECRETS) verified.delete(verified.keys().next().value!);
    verified.set(key, now);
  }
  return matched;
}

/** Tests start from an empty memo. */
export function forgetVerifiedSecretsForTests(): void {
  verified.clear();
}

/**
 * The hashes of a record's secrets still in force at `now` (epoch seconds). A secret stops working
 * at its `expires_at`; an `expires_at` that does not parse counts as already past (fail closed).
 */
export function activeSecretHashes(
  secrets: readonly { hash: string; expires_at?: string }[] | undefined,
  now: number,
): string[] {
  return (secrets ?? [])
    .filter((s) => s.expires_at === undefined || now < Date.parse(s.expires_at) / 1000)
    .map((s) => s.hash);
}
