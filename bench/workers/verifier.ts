// An MCP server Worker reduced to its gate: the access-token verifier MCP servers import
// (workers/lib/verifier.ts), created once per isolate with ema-edge's published JWKS, checking
// the Bearer token and a required scope on every request. `/kv` also reads the KV revocation
// mirror (two KV reads with cacheTtl), as a server given `revocations` does.
import { createAccessTokenVerifier, type AccessTokenVerifier } from "../../workers/lib/verifier";

interface Env {
  ISSUER: string;
  RESOURCE: string;
  AS_JWKS: string;
  MIRROR: KVNamespace;
}

let plain: AccessTokenVerifier | undefined;
let mirrored: AccessTokenVerifier | undefined;

function build(env: Env, revocations?: KVNamespace): AccessTokenVerifier {
  return createAccessTokenVerifier({
    issuer: env.ISSUER,
    resource: env.RESOURCE,
    resourceMetadataUrl: `${env.RESOURCE}/.well-known/oauth-protected-resource`,
    jwks: JSON.parse(env.AS_JWKS),
    ...(revocations && { revocations }),
  });
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const withMirror = new URL(request.url).pathname === "/kv";
    const verifier = withMirror ? (mirrored ??= build(env, env.MIRROR)) : (plain ??= build(env));
    const outcome = await verifier.verify(request, ["notes.read"]);
    if (!outcome.ok) return outcome.response;
    return Response.json({ sub: outcome.claims.sub, scopes: outcome.scopes });
  },
} satisfies ExportedHandler<Env>;
