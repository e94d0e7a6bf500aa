// The access-token signing keys, from the AT_SIGNING_KEYS Worker secret (never KV): a private JWK
// set with the `current` kid that signs. Every key in the set is published in our JWKS, so a key is
// published before it signs (add it, deploy, then make it current) and stays published after
// (keep it until the tokens it signed have expired). Parsed once per isolate.
import { importJWK, type CryptoKey } from "jose";

export interface SigningKeys {
  kid: string;
  alg: "ES256" | "RS256" | "EdDSA";
  privateKey: CryptoKey;
  /** The public JWKS document, serialized once. */
  jwksJson: string;
}

const SIGNING_ALGORITHMS = new Set(["ES256", "RS256", "EdDSA"]);
/** Members of a JWK that are private; they never leave the Worker. */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

let memo: { secret: string; keys: Promise<SigningKeys> } | undefined;

/** Parses and imports the secret. Throws (a deployment error, answered as server_error) when malformed. */
export function loadSigningKeys(secret: string | undefined): Promise<SigningKeys> {
  if (memo && memo.secret === secret) return memo.keys;
  const keys = importSigningKeys(secret);
  memo = { secret: secret ?? "", keys };
  // A failed import must not be cached for the life of the isolate.
  keys.catch(() => {
    if (memo?.keys === keys) memo = undefined;
  });
  return keys;
}

async function importSigningKeys(secret: string | undefined): Promise<SigningKeys> {
  if (!secret) throw new Error("AT_SIGNING_KEYS is not set (run `npm run keys:dev` for local development)");
  let parsed: { current?: unknown; keys?: unknown };
  try {
    parsed = JSON.parse(secret);
  } catch {
    throw new Error("AT_SIGNING_KEYS is not JSON");
  }
  if (!Array.isArray(parsed.keys) || typeof parsed.current !== "string") {
    throw new Error('AT_SIGNING_KEYS must be {"current": kid, "keys": [JWK…]}');
  }
  const jwks = parsed.keys as (JsonWebKey & { kid?: string })[];
  for (const key of jwks) {
    if (typeof key.kid !== "string" || typeof key.alg !== "string" || !SIGNING_ALGORITHMS.has(key.alg) || !key.d) {
      throw new Error("every AT_SIGNING_KEYS key needs kid, alg (ES256, RS256 or EdDSA) and its private part");
    }
  }
  const current = jwks.find((k) => k.kid === parsed.current);
  if (!current) throw new Error("AT_SIGNING_KEYS current kid is not in keys");
  const privateKey = (await importJWK(current, current.alg)) as CryptoKey;
  const published = jwks.map((k) => {
    const pub: Record<string, unknown> = { ...k, use: "sig" };
    for (const m of PRIVATE_MEMBERS) delete pub[m];
    delete pub.key_ops;
    delete pub.ext;
    return pub;
  });
  return {
    kid: current.kid!,
    alg: current.alg as SigningKeys["alg"],
    privateKey,
    jwksJson: JSON.stringify({ keys: published }),
  };
}
