// The IdP's one signing key: ID tokens, ID-JAGs and SETs are all signed with it, and the JWKS
// publishes its public half. From IDP_SIGNING_KEY when set; otherwise an RS256 key generated once
// and kept in IDP_STATE, so tokens minted before a `wrangler dev` restart still verify after it.
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from "jose";

/** RS256 is the CAEP Interoperability Profile's algorithm and ema-edge's default for SETs. */
export const GENERATED_KEY_ALG = "RS256";
/** What IDP_SIGNING_KEY may use: the asymmetric algorithms ema-edge's example policy allows. */
const ALLOWED_ALGS: ReadonlySet<string> = new Set(["RS256", "ES256"]);
const STORED_KEY = "signing-key:v1";
/** Private members of RSA and EC JWKs: none of them may reach the JWKS. */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] as const;

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

/** Thrown when IDP_SIGNING_KEY is unusable; the message names the problem, never the key. */
export class SigningKeyConfigError extends Error {
  override name = "SigningKeyConfigError";
}

// Imported keys by their JSON: importing RSA keys costs milliseconds on every request otherwise.
const imported = new Map<string, Promise<SigningKey>>();

export async function loadSigningKey(env: { IDP_SIGNING_KEY?: string; IDP_STATE: KVNamespace }): Promise<SigningKey> {
  const json = env.IDP_SIGNING_KEY !== undefined && env.IDP_SIGNING_KEY !== "" ? env.IDP_SIGNING_KEY : await storedOrGenerated(env.IDP_STATE);
  let key = imported.get(json);
  if (key === undefined) {
    key = importSigningKey(json);
    imported.set(json, key);
    key.catch(() => imported.delete(json));
  }
  return key;
}

/** `{"keys": [public JWK]}`: only public members, with kid, alg and use. */
export function jwksOf(key: SigningKey): { keys: JWK[] } {
  return { keys: [key.publicJwk] };
}

async function storedOrGenerated(kv: KVNamespace): Promise<string> {
  const stored = await kv.get(STORED_KEY);
  if (stored !== null) return stored;
  const { privateKey } = await generateKeyPair(GENERATED_KEY_ALG, { extractable: true, modulusLength: 2048 });
  const jwk = { ...(await exportJWK(privateKey)), kid: `dev-idp-${crypto.randomUUID().slice(0, 8)}`, alg: GENERATED_KEY_ALG };
  await kv.put(STORED_KEY, JSON.stringify(jwk));
  // Two first requests may race to generate; whichever write KV kept is the key from now on.
  return (await kv.get(STORED_KEY)) ?? JSON.stringify(jwk);
}

async function importSigningKey(json: string): Promise<SigningKey> {
  let jwk: JWK;
  try {
    jwk = JSON.parse(json) as JWK;
  } catch {
    throw new SigningKeyConfigError("IDP_SIGNING_KEY is not JSON");
  }
  if (typeof jwk !== "object" || jwk === null) throw new SigningKeyConfigError("IDP_SIGNING_KEY is not a JWK object");
  if (typeof jwk.kid !== "string" || jwk.kid === "") throw new SigningKeyConfigError("IDP_SIGNING_KEY has no kid");
  if (typeof jwk.alg !== "string" || !ALLOWED_ALGS.has(jwk.alg)) throw new SigningKeyConfigError("IDP_SIGNING_KEY alg must be RS256 or ES256");
  if (typeof jwk.d !== "string") throw new SigningKeyConfigError("IDP_SIGNING_KEY is not a private key");
  const publicJwk: JWK = { ...jwk };
  for (const member of PRIVATE_MEMBERS) delete publicJwk[member];
  delete publicJwk.key_ops;
  delete publicJwk.ext;
  publicJwk.use = "sig";
  try {
    const [privateKey, publicKey] = await Promise.all([importJWK(jwk, jwk.alg), importJWK(publicJwk, jwk.alg)]);
    return { kid: jwk.kid, alg: jwk.alg, privateKey: privateKey as CryptoKey, publicKey: publicKey as CryptoKey, publicJwk };
  } catch {
    throw new SigningKeyConfigError("IDP_SIGNING_KEY could not be imported for its alg");
  }
}
