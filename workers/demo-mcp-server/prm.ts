// OAuth 2.0 Protected Resource Metadata (RFC 9728) for this MCP server: the document MCP clients
// read after a 401 to find ema-edge. Served at the path-inserted well-known URL (§3.1) the
// challenges name; no `jwks_uri` or signing of the document (§2, optional, not used here).
import { getOAuthProtectedResourceMetadataUrl, type OAuthProtectedResourceMetadata } from "@modelcontextprotocol/server";
import { SCOPES_SUPPORTED } from "./scopes";

const WELL_KNOWN_PATH = "/.well-known/oauth-protected-resource";

/** The RFC 9728 §3.1 metadata URL of `resource`: the well-known segment inserted before its path. */
export const protectedResourceMetadataUrl = (resource: string): string => getOAuthProtectedResourceMetadataUrl(new URL(resource));

/**
 * The paths this origin answers with the document: the path-inserted one, and the bare well-known
 * path clients fall back to when they start from the origin (this origin hosts one resource only).
 */
export const protectedResourceMetadataPaths = (resource: string): string[] => [new URL(protectedResourceMetadataUrl(resource)).pathname, WELL_KNOWN_PATH];

export function protectedResourceMetadata(resource: string, issuer: string): OAuthProtectedResourceMetadata {
  return {
    resource,
    authorization_servers: [issuer],
    scopes_supported: [...SCOPES_SUPPORTED],
    bearer_methods_supported: ["header"], // the verifier refuses tokens in the query or the body
    resource_name: "ema-edge demo notes",
  };
}

/** The document as an HTTP answer: public, cacheable briefly, readable cross-origin (browser clients). */
export function protectedResourceMetadataResponse(request: Request, resource: string, issuer: string): Response {
  const cors = { "Access-Control-Allow-Origin": "*" };
  if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: { ...cors, "Access-Control-Allow-Methods": "GET", "Access-Control-Max-Age": "86400" } });
  if (request.method !== "GET" && request.method !== "HEAD") return new Response(null, { status: 405, headers: { ...cors, Allow: "GET, HEAD, OPTIONS" } });
  return Response.json(protectedResourceMetadata(resource, issuer), { headers: { ...cors, "Cache-Control": "public, max-age=300" } });
}
