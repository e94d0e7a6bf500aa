// Where our endpoints live. Everything sits under the issuer's path, and the metadata uses RFC 8414
// §3.1 path insertion, so one origin can host several issuers.

/** The issuer's path without a trailing slash ("" for an issuer at the origin's root). */
export const issuerPath = (issuer: string): string => new URL(issuer).pathname.replace(/\/$/, "");

export const ENDPOINT_PATHS = {
  token: "/oauth2/token",
  /** Always refuses (handlers/authorize.ts); published because MCP clients require the member. */
  authorize: "/oauth2/authorize",
  introspect: "/oauth2/introspect",
  revoke: "/oauth2/revoke",
  jwks: "/.well-known/jwks.json",
  /** Followed by `/{issuer-id}`: the trusted issuer whose secrets and keys authenticate the call. */
  oktaHook: "/hooks/okta",
  ssf: "/ssf",
  universalLogout: "/logout/okta",
} as const;

/** The absolute URL of one of our endpoints. */
export function endpointUrl(issuer: string, endpoint: keyof typeof ENDPOINT_PATHS, issuerId?: string): string {
  return issuer.replace(/\/$/, "") + ENDPOINT_PATHS[endpoint] + (issuerId === undefined ? "" : `/${issuerId}`);
}

/** The metadata path: `/.well-known/oauth-authorization-server` + the issuer's path. */
export const metadataPath = (issuer: string): string => `/.well-known/oauth-authorization-server${issuerPath(issuer)}`;
