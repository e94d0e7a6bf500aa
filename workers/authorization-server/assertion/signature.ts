// Verifies the ID-JAG's signature with the key the JWKS cache chose for its issuer. jose is given
// exactly one key and one algorithm, so nothing in the token's header can pick another.
import { compactVerify, type CryptoKey } from "jose";
import type { SignatureAlgorithm } from "../../lib/kv-records";
import { ok, refuse, type Result } from "../../lib/result";
import type { TrustRefusal } from "../oauth/refusal";

export async function verifySignature(compact: string, key: CryptoKey, alg: SignatureAlgorithm): Promise<Result<true, TrustRefusal>> {
  try {
    await compactVerify(compact, key, { algorithms: [alg] });
    return ok(true);
  } catch {
    return refuse({ reason: "signature_invalid" });
  }
}
