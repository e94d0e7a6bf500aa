// Finds a trusted issuer's jwks_uri from its own metadata when the policy names none (RFC 8414,
// OpenID Connect Discovery 1.0). The document must name exactly the configured issuer, or it is
// not that issuer's (RFC 8414 §3.3) and its keys could sign as anyone.
import { ok, refuse, type Result } from "../../lib/result";
import { fetchIdpJson, type FetchFailure } from "./fetch";

/**
 * Where an issuer's metadata may live, in the order MCP clients try them: RFC 8414 §3.1 inserts
 * the well-known segment between host and path; OIDC Discovery §4 appends it to the issuer.
 */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/$/, ""); // §3.1: a terminating "/" is removed first
  const inserted = (name: string) => `${url.origin}/.well-known/${name}${path}`;
  const urls = [inserted("oauth-authorization-server"), inserted("openid-configuration")];
  const appended = `${url.origin}${path}/.well-known/openid-configuration`;
  return urls.includes(appended) ? urls : [...urls, appended];
}

/** The jwks_uri from the first metadata document the issuer serves; any found document must be valid. */
export async function discoverJwksUri(
  issuer: string,
  fetchFn: typeof fetch,
  signal: AbortSignal,
): Promise<Result<string, FetchFailure>> {
  let urls: string[];
  try {
    urls = metadataUrls(issuer);
  } catch {
    return refuse({ detail: "issuer is not a URL" });
  }
  let lastDetail = "no metadata";
  for (const url of urls) {
    const fetched = await fetchIdpJson(url, fetchFn, signal);
    if (!fetched.ok) {
      // Only "not here" moves on; a timeout or a bad body means the IdP is unwell, not elsewhere.
      if (fetched.error.status === undefined) return refuse({ detail: `metadata ${fetched.error.detail}` });
      lastDetail = `metadata ${fetched.error.detail}`;
      continue;
    }
    const doc = fetched.value.body as { issuer?: unknown; jwks_uri?: unknown } | null;
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return refuse({ detail: "metadata is not a JSON object" });
    if (doc.issuer !== issuer) return refuse({ detail: "metadata issuer does not equal the configured issuer" });
    // fetchJwks applies the https rule to it, as to every URL.
    if (typeof doc.jwks_uri !== "string") return refuse({ detail: "metadata has no jwks_uri" });
    return ok(doc.jwks_uri);
  }
  return refuse({ detail: lastDetail });
}
