// What the dev-idp project's global setup (recorder.mjs) hands to tests running in workerd.
declare module "vitest" {
  export interface ProvidedContext {
    /** Origin of the loopback server that records the dev IdP's webhook pushes. */
    devIdpRecorder: string;
  }
}
export {};
