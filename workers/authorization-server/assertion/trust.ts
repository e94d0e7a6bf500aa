// Issuer trust (RFC 7523 §3; ID-JAG §4.1, §6, §9.3): `iss` matched exactly against policy, never
// our own issuer, the issuer's own `alg` allow-list, and its tenant when pinned. Every refusal here
// reads the same to the caller, so the allow-list cannot be probed.
import type { SignatureAlgorithm, TrustedIssuer } from "../../lib/kv-records";
import { ok, refuse, type Result } from "../../lib/result";
import type { TrustRefusal } from "../oauth/refusal";
import type { IdJagClaims } from "./claims";

/** What an issuer may sign with when policy names no algorithms (design.md). */
export const DEFAULT_ISSUER_ALGORITHMS: readonly SignatureAlgorithm[] = ["RS256", "ES256"];

export function resolveIssuer(
  claims: IdJagClaims,
  alg: SignatureAlgorithm,
  issuers: ReadonlyMap<string, readonly TrustedIssuer[]>,
  ownIssuer: string,
): Result<TrustedIssuer, TrustRefusal> {
  // An ID-JAG we minted ourselves must not come back as a grant (same trust domain, ID-JAG §9.3).
  if (claims.iss === ownIssuer) return refuse({ reason: "issuer_is_self" });
  const configs = issuers.get(claims.iss);
  if (configs === undefined) return refuse({ reason: "issuer_not_trusted" });
  // A multi-tenant IdP is trusted per tenant: the entry pinned to the assertion's tenant, or the
  // issuer's one unpinned entry (policy-check.ts forbids mixing the two).
  const issuer = configs.find((c) => c.tenant === undefined || c.tenant === claims.tenant);
  if (issuer === undefined) return refuse({ reason: "tenant_mismatch" });
  if (!(issuer.algorithms ?? DEFAULT_ISSUER_ALGORITHMS).includes(alg)) return refuse({ reason: "alg_not_allowed_for_issuer", alg });
  return ok(issuer);
}
