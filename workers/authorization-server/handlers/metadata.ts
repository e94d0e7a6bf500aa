// RFC 8414 authorization server metadata and our access-token JWKS. The metadata says we implement
// the ID-JAG profile; it never lists which issuers we trust (ID-JAG §7.2, §9.4).
import type { PolicyDoc } from "../../lib/kv-records";
import { SIGNATURE_ALGORITHMS } from "../assertion/header";
import { endpointUrl } from "../http/endpoints";
import { JWT_BEARER_GRANT } from "./token";

export const ID_JAG_PROFILE = "urn:ietf:params:oauth:grant-profile:id-jag";

export function buildMetadata(issuer: string, policy: PolicyDoc | undefined): Record<string, unknown> {
  const scopes = policy ? [...new Set(policy.resources.flatMap((r) => r.scopes.map((s) => s.name)))] : undefined;
  return {
    issuer,
    // RFC 8414 §2 requires it only when a grant type uses it, and none of ours does; the official
    // MCP SDK's metadata schema requires it all the same. It names an endpoint that refuses every
    // request (handlers/authorize.ts), so publishing it promises nothing.
    authorization_endpoint: endpointUrl(issuer, "authorize"),
    token_endpoint: endpointUrl(issuer, "token"),
    jwks_uri: endpointUrl(issuer, "jwks"),
    grant_types_supported: [JWT_BEARER_GRANT],
    authorization_grant_profiles_supported: [ID_JAG_PROFILE],
    token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "private_key_jwt"],
    token_endpoint_auth_signing_alg_values_supported: [...SIGNATURE_ALGORITHMS],
    introspection_endpoint: endpointUrl(issuer, "introspect"),
    introspection_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "private_key_jwt"],
    revocation_endpoint: endpointUrl(issuer, "revoke"),
    revocation_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "private_key_jwt"],
    // RFC 8414 requires the member. Our authorization endpoint supports no response type, so this
    // is empty; publishing "code" would send clients into a flow that does not exist.
    response_types_supported: [],
    ...(scopes && { scopes_supported: scopes }),
  };
}
