// Discovery documents (RFC 8414 and OIDC Discovery 1.0; the same body at both names). The MCP
// SDK's discoverAndRequestJwtAuthGrant reads /.well-known/oauth-authorization-server and requires
// authorization_endpoint and response_types_supported; there is no interactive login here, so the
// endpoint answers with an error pointing at POST /dev/login and no response type is claimed.
import { ID_JAG_TOKEN_TYPE, ID_TOKEN_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from "./exchange-request";

export const METADATA_PATHS = ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"] as const;
export const JWKS_PATH = "/.well-known/jwks.json";
export const TOKEN_PATH = "/oauth2/token";
export const AUTHORIZE_PATH = "/oauth2/authorize";

export function buildMetadata(issuer: string, alg: string) {
  return {
    issuer,
    authorization_endpoint: `${issuer}${AUTHORIZE_PATH}`,
    token_endpoint: `${issuer}${TOKEN_PATH}`,
    jwks_uri: `${issuer}${JWKS_PATH}`,
    response_types_supported: [],
    subject_types_supported: ["public"],
    grant_types_supported: [TOKEN_EXCHANGE_GRANT],
    token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
    id_token_signing_alg_values_supported: [alg],
    scopes_supported: ["openid", "email", "profile", "groups"],
    claims_supported: ["iss", "sub", "aud", "iat", "exp", "auth_time", "amr", "email", "email_verified", "name", "preferred_username", "groups"],
    // Not standard metadata: what the exchange accepts and issues, for people reading the document.
    token_exchange_subject_token_types_supported: [ID_TOKEN_TOKEN_TYPE],
    token_exchange_requested_token_types_supported: [ID_JAG_TOKEN_TYPE],
    service_documentation: `${issuer}/`,
  };
}
