// The bindings workers/dev-idp/wrangler.toml gives the development IdP. NOT for production.

export interface Env {
  /** This IdP's issuer: `iss` of everything it signs. Must be a loopback origin (config.ts). */
  ISSUER: string;
  /** ema-edge's issuer: the only `audience` minted for, and the base URL of the webhooks pushed. */
  EMA_EDGE_ISSUER: string;
  /** ema-edge's id for this IdP: `${EMA_EDGE_ISSUER}/hooks/okta/{id}` and `/ssf/{id}`. */
  EMA_EDGE_IDP_ID: string;
  /** Sent verbatim as the `Authorization` header of Okta Event Hook deliveries, as Okta does. */
  OKTA_HOOK_SECRET: string;
  /** Optional private JWK (JSON, with `kid` and `alg` RS256 or ES256). Unset → one generated and kept in IDP_STATE. */
  IDP_SIGNING_KEY?: string;
  /** Optional: how long one webhook push may take, in ms (default 5000). */
  PUSH_TIMEOUT_MS?: string;
  /** The users' mutable state (user-state.ts) and the generated signing key (keys.ts). */
  IDP_STATE: KVNamespace;
}
