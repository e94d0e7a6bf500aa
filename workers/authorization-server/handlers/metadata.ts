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
    // RFC 8414 requires the member. We have no authorization endpoint, so we support no response
    // type; publishing "code" would send clients to an endpoint that does not exist.
    response_types_supported: [],
    ...(scopes && { scopes_supported: scopes }),
  };
}
