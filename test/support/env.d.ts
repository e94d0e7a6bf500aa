// Types `env` and `exports` from "cloudflare:workers" in tests as the authorization server's.
import type { Env as AuthorizationServerEnv } from "../../workers/authorization-server/env";

declare global {
  namespace Cloudflare {
    interface Env extends AuthorizationServerEnv {}
    interface GlobalProps {
      mainModule: typeof import("../../workers/authorization-server/index");
      durableNamespaces: "SubjectShard";
    }
  }
}
export {};
