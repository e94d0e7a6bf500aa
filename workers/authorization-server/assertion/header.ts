// The ID-JAG's JOSE header: explicit typing (ID-JAG §3.1, RFC 8725 §3.11) and an asymmetric `alg`.
// The per-issuer allow-list is applied once the issuer is known (assertion/trust.ts); this step only
// refuses what no issuer may use. `jku`, `x5u`, `jwk` and `x5c` are never read.
import type { SignatureAlgorithm } from "../../lib/kv-records";
import { ok, refuse, type Result } from "../../lib/result";
import type { StructureRefusal } from "../oauth/refusal";

export interface IdJagHeader {
  alg: SignatureAlgorithm;
  kid?: string;
}

/** Every algorithm any issuer may be configured with; `none` and the HMAC family never. */
export const SIGNATURE_ALGORITHMS: ReadonlySet<string> = new Set<SignatureAlgorithm>([
  "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
]);

/** `oauth-id-jag+jwt`, or its full media type (RFC 7515 §4.1.9), compared case-insensitively. */
const ID_JAG_TYPES = new Set(["oauth-id-jag+jwt", "application/oauth-id-jag+jwt"]);

export function checkIdJagHeader(header: Record<string, unknown>): Result<IdJagHeader, StructureRefusal> {
  const { typ, alg, kid, crit } = header;
  if (typeof typ !== "string" || !ID_JAG_TYPES.has(typ.toLowerCase())) {
    return refuse({ reason: "typ_invalid", typ: typeof typ === "string" ? typ.slice(0, 64) : null });
  }
  if (typeof alg !== "string" || !SIGNATURE_ALGORITHMS.has(alg)) {
    return refuse({ reason: "alg_not_allowed", alg: typeof alg === "string" ? alg.slice(0, 16) : null });
  }
  // We understand no extension header, so any `crit` (even an empty or malformed one) is refused
  // (RFC 7515 §4.1.11).
  if (crit !== undefined) return refuse({ reason: "crit_unsupported" });
  if (kid !== undefined && (typeof kid !== "string" || kid.length === 0 || kid.length > 256)) {
    return refuse({ reason: "jws_malformed", detail: "kid" });
  }
  return ok({ alg: alg as SignatureAlgorithm, ...(kid !== undefined ? { kid: kid as string } : {}) });
}
