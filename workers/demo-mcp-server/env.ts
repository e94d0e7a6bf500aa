// The bindings wrangler.toml gives the demo MCP server.

export interface Env {
  /** This server's canonical resource URI (RFC 8707): the `aud` its access tokens must carry. */
  RESOURCE: string;
  /** The ema-edge issuer whose tokens are accepted; its JWKS is `${AS_ISSUER}/.well-known/jwks.json`. */
  AS_ISSUER: string;
  /** ema-edge's KV namespace, read only for the revocation mirror (revoked:v1:*). */
  CONFIG: KVNamespace;
}
