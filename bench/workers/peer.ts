// The peer: @cloudflare/workers-oauth-provider 1.2.3 configured for EMA as a team on Workers would
// configure it, with the same IdP (issuer, https jwks_uri, ES256 key), the same audience (ema-edge's
// issuer, through the trusted issuer's `audience`), the same resource, client, and access-token TTL
// (300 s). `mapClaims` applies a group → scope table in code, the peer's place for policy.
// Differences it cannot be configured away from are listed in bench/README.md.
import { OAuthProvider, type EmaTrustedIssuer } from "@cloudflare/workers-oauth-provider";
import { countingKv, takeCounts } from "./counting";

interface Env {
  ISSUER: string;
  IDP_ISSUER: string;
  IDP_JWKS_URI: string;
  RESOURCE: string;
  OAUTH_KV: KVNamespace;
}

// The same grants as the bench policy's rules for this resource: group → scopes.
const GROUP_SCOPES: Record<string, string[]> = {
  engineering: ["notes.read", "notes.write"],
  sales: ["notes.read"],
  "notes-admins": ["notes.read", "notes.write", "notes.admin"],
};

const notFound = { fetch: () => new Response("not found", { status: 404 }) };

let provider: OAuthProvider<Env> | undefined;

function build(env: Env): OAuthProvider<Env> {
  return new OAuthProvider<Env>({
    apiRoute: "https://mcp.bench.test/mcp",
    apiHandler: notFound,
    defaultHandler: notFound,
    authorizeEndpoint: "/authorize",
    tokenEndpoint: "/oauth2/token",
    accessTokenTTL: 300,
    refreshTokenTTL: 0,
    resourceMetadata: { resource: env.RESOURCE },
    enterpriseManagedAuthorization: {
      trustedIssuers: async ({ iss }): Promise<EmaTrustedIssuer | null> =>
        iss === env.IDP_ISSUER ? { issuer: iss, jwksUri: env.IDP_JWKS_URI, algorithms: ["RS256", "ES256"], audience: env.ISSUER } : null,
      maxAssertionLifetimeSeconds: 300,
      clockSkewSeconds: 60,
      mapClaims: async ({ claims, requestedScope }) => {
        const groups = Array.isArray(claims.groups) ? (claims.groups as string[]) : [];
        const allowed = new Set(groups.flatMap((g) => GROUP_SCOPES[g] ?? []));
        const scope = requestedScope.filter((s) => allowed.has(s));
        if (scope.length === 0) return null;
        return {
          userId: `ent-${encodeURIComponent(claims.sub)}`,
          scope,
          metadata: { idp: claims.iss, sub: claims.sub },
          props: { idp: claims.iss, sub: claims.sub, email: claims.email },
        };
      },
    },
  });
}

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    provider ??= build(env);
    // Counting only for the requests of the counting phase, so timed requests run unwrapped.
    if (request.headers.get("x-bench-count") === "1") return provider.fetch(request, { ...env, OAUTH_KV: countingKv(env.OAUTH_KV) }, ctx);
    if (new URL(request.url).pathname === "/__bench/counts") return Promise.resolve(Response.json(takeCounts()));
    return provider.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
