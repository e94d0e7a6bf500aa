// Values the Node-side global setup hands to tests running in workerd.
declare module "vitest" {
  export interface ProvidedContext {
    /** Origin of the loopback host that serves test IdPs' JWKS (test/support/idp-server.ts). */
    idpHost: string;
    /** The AT_SIGNING_KEYS secret the Worker under test uses. */
    signingKeys: string;
  }
}
export {};
