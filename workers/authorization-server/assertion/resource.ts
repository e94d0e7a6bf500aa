// Binds the grant to exactly one MCP resource (RFC 8707; EMA §5.1; ID-JAG §4.4.1): every `resource`
// in the ID-JAG must be one of ours, a token-request `resource` must be among them, and the access
// token's `aud` is the one left. Comparison is after RFC 3986 §6.2.2 syntax normalisation (scheme
// and host case, default port, dot segments); trailing-slash variants are distinct resources.
import type { McpResource, TrustedIssuer } from "../../lib/kv-records";
import { ok, refuse, type Result } from "../../lib/result";
import type { GrantRefusal, RequestRefusal } from "../oauth/refusal";

/** Our MCP resources by normalised URI. */
export type ResourceIndex = ReadonlyMap<string, McpResource>;

/** Normalises an absolute URI without a fragment; `undefined` for anything else. */
export function normalizeResourceUri(value: string): string | undefined {
  if (value.length === 0 || value.length > 2048 || value.includes("#") || /[\s\x00-\x1f]/.test(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined; // relative references do not parse without a base
  }
  if (url.username !== "" || url.password !== "") return undefined;
  return url.href;
}

export function indexResources(resources: readonly McpResource[]): ResourceIndex {
  const index = new Map<string, McpResource>();
  for (const r of resources) {
    const key = normalizeResourceUri(r.resource);
    if (key !== undefined) index.set(key, r);
  }
  return index;
}

/**
 * Chooses the resource the access token is for. `claim` is the ID-JAG `resource`; absent, the
 * issuer's default resource stands in (Okta omits the claim). `requested` is the token request's
 * `resource` parameter, which may only pick among the granted ones.
 */
export function bindResource(
  claim: string | string[] | undefined,
  requested: string | undefined,
  issuer: TrustedIssuer,
  index: ResourceIndex,
): Result<McpResource, GrantRefusal | RequestRefusal> {
  const granted: string[] = [];
  if (claim === undefined) {
    const fallback = issuer.default_resource !== undefined ? normalizeResourceUri(issuer.default_resource) : undefined;
    if (fallback === undefined || !index.has(fallback)) return refuse({ reason: "resource_missing" });
    granted.push(fallback);
  } else {
    for (const value of typeof claim === "string" ? [claim] : claim) {
      const normalized = normalizeResourceUri(value);
      if (normalized === undefined) return refuse({ reason: "resource_invalid", detail: "not_absolute_uri" });
      if (!index.has(normalized)) return refuse({ reason: "resource_unknown" });
      if (granted.includes(normalized)) return refuse({ reason: "resource_invalid", detail: "duplicate" });
      granted.push(normalized);
    }
  }

  if (requested !== undefined) {
    const normalized = normalizeResourceUri(requested);
    if (normalized === undefined) return refuse({ reason: "resource_parameter_invalid", detail: "not_absolute_uri" });
    if (!granted.includes(normalized)) return refuse({ reason: "target_not_in_grant" });
    return ok(index.get(normalized)!);
  }
  if (granted.length > 1) return refuse({ reason: "resource_ambiguous" });
  return ok(index.get(granted[0]!)!);
}
