// Values the demo MCP server project's global setup (as-jwks-host.ts) hands to its tests in workerd.
declare module "vitest" {
  export interface ProvidedContext {
    /** Issuer URL of the stand-in ema-edge: a loopback origin serving /.well-known/jwks.json. */
    demoAsIssuer: string;
    /** Its ES256 access-token signing key, a private JWK (JSON) with `kid`. */
    demoAsSigningKey: string;
  }
}
export {};
