// base64url without padding (RFC 7515 §2). A character outside the alphabet, padding, or a length
// that no encoding produces is refused rather than skipped. (Unused trailing bits are not checked,
// as atob ignores them; nothing here compares encodings, only decoded bytes.)

const ALPHABET = /^[A-Za-z0-9_-]*$/;

/** Decodes base64url to bytes; `undefined` when the input is not canonical base64url. */
export function decodeBase64Url(input: string): Uint8Array | undefined {
  if (!ALPHABET.test(input) || input.length % 4 === 1) return undefined;
  const base64 = input.replace(/-/g, "+").replace(/_/g, "/");
  let binary: string;
  try {
    binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  } catch {
    return undefined;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function encodeBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
