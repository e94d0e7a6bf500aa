// Picks the one key of a JWK set that may verify a JWS with a given header (RFC 7517 §4, RFC 7515
// §4.1.4). Pure: the set comes from the configured jwks_uri or a client record, never from the
// token's own `jku`/`x5u`/`jwk` headers, which are ignored.
import type { SignatureAlgorithm } from "../../lib/kv-records";
import { ok, refuse, type Result } from "../../lib/result";

export type KeySelectionRefusal = { reason: "kid_unknown"; kid: string | null } | { reason: "key_ambiguous" };

/** The key type (and curve) each algorithm needs, so an RSA key is never offered to ES256. */
const KEY_SHAPE: Record<SignatureAlgorithm, { kty: string; crv?: string }> = {
  RS256: { kty: "RSA" },
  RS384: { kty: "RSA" },
  RS512: { kty: "RSA" },
  PS256: { kty: "RSA" },
  PS384: { kty: "RSA" },
  PS512: { kty: "RSA" },
  ES256: { kty: "EC", crv: "P-256" },
  ES384: { kty: "EC", crv: "P-384" },
  EdDSA: { kty: "OKP", crv: "Ed25519" },
};

/** Whether a key may be used to verify signatures made with `alg`. */
export function isUsableFor(key: JsonWebKey & { kid?: string; use?: string }, alg: SignatureAlgorithm): boolean {
  const shape = KEY_SHAPE[alg];
  if (key.kty !== shape.kty || (shape.crv !== undefined && key.crv !== shape.crv)) return false;
  if (key.use !== undefined && key.use !== "sig") return false; // an encryption key never verifies
  // key_ops comes from the IdP's JSON: anything but an array that names "verify" disqualifies.
  if (key.key_ops !== undefined && !(Array.isArray(key.key_ops) && key.key_ops.includes("verify"))) return false;
  if (key.alg !== undefined && key.alg !== alg) return false;
  return true;
}

/**
 * Selects the verification key for `alg`/`kid`. With a `kid`, the key with that id (and a usable
 * shape); without one, the only usable key, and a refusal when several could apply: trying each
 * in turn would let any of them sign for the others.
 */
export function selectKey(
  keys: readonly JsonWebKey[],
  header: { alg: SignatureAlgorithm; kid?: string | undefined },
): Result<JsonWebKey, KeySelectionRefusal> {
  const usable = (keys as (JsonWebKey & { kid?: string })[]).filter((k) => isUsableFor(k, header.alg));
  if (header.kid !== undefined) {
    const match = usable.filter((k) => k.kid === header.kid);
    if (match.length === 1) return ok(match[0]!);
    return match.length === 0 ? refuse({ reason: "kid_unknown", kid: header.kid }) : refuse({ reason: "key_ambiguous" });
  }
  if (usable.length === 1) return ok(usable[0]!);
  return usable.length === 0 ? refuse({ reason: "kid_unknown", kid: null }) : refuse({ reason: "key_ambiguous" });
}
