// The demo MCP server of `npm run dev`: a notes server on the official MCP TypeScript SDK, served
// stateless and session-less (2026-07-28 transport; 2025 clients through the SDK's stateless
// fallback), every MCP request admitted by ema-edge's verifier. Routes by hand: four paths.
import { createMcpHandler, type McpHttpHandler } from "@modelcontextprotocol/server";
import { createAccessTokenVerifier, type AccessTokenVerifier } from "../lib/verifier";
import { admitMcpRequest, MAX_MCP_BODY_BYTES } from "./auth-gate";
import type { Env } from "./env";
import { allowedHostnames, rejectForeignHost } from "./host-guard";
import { protectedResourceMetadataPaths, protectedResourceMetadataResponse, protectedResourceMetadataUrl } from "./prm";
import { createNotesServer } from "./tools";

interface App {
  resource: URL;
  metadataUrl: string;
  metadataPaths: string[];
  hosts: string[];
  verifier: AccessTokenVerifier;
  mcp: McpHttpHandler;
}

// One verifier per isolate (per env values): it caches ema-edge's JWKS, which a per-request verifier
// would refetch on every call. Rebuilt only if the bindings change (they do between test projects).
let cached: { issuer: string; resource: string; kv: KVNamespace; app: App } | undefined;

function appFor(env: Env): App {
  if (cached && cached.issuer === env.AS_ISSUER && cached.resource === env.RESOURCE && cached.kv === env.CONFIG) return cached.app;
  const resource = new URL(env.RESOURCE);
  const metadataUrl = protectedResourceMetadataUrl(env.RESOURCE);
  const verifier = createAccessTokenVerifier({
    issuer: env.AS_ISSUER,
    resource: env.RESOURCE,
    resourceMetadataUrl: metadataUrl,
    // ema-edge's jwks_uri (workers/authorization-server/http/endpoints.ts).
    jwks: { uri: `${env.AS_ISSUER.replace(/\/$/, "")}/.well-known/jwks.json` },
    revocations: env.CONFIG,
  });
  const mcp = createMcpHandler(createNotesServer, {
    maxRequestBodySize: MAX_MCP_BODY_BYTES,
    onerror: (error) => console.log(JSON.stringify({ event: "mcp_error", name: error.name, message: error.message })),
  });
  const app: App = { resource, metadataUrl, metadataPaths: protectedResourceMetadataPaths(env.RESOURCE), hosts: allowedHostnames(resource), verifier, mcp };
  cached = { issuer: env.AS_ISSUER, resource: env.RESOURCE, kv: env.CONFIG, app };
  return app;
}

async function route(request: Request, env: Env): Promise<Response> {
  const app = appFor(env);
  const { pathname } = new URL(request.url);
  if (pathname === app.resource.pathname) {
    const foreign = rejectForeignHost(request, app.hosts);
    if (foreign) return foreign;
    const admitted = await admitMcpRequest(request, app.verifier, app.resource, app.metadataUrl);
    if (!admitted.ok) return admitted.response;
    return app.mcp.fetch(request, { authInfo: admitted.authInfo, ...(admitted.parsedBody !== undefined && { parsedBody: admitted.parsedBody }) });
  }
  if (app.metadataPaths.includes(pathname)) return protectedResourceMetadataResponse(request, env.RESOURCE, env.AS_ISSUER);
  if (pathname === "/" && (request.method === "GET" || request.method === "HEAD")) return homePage(env, app);
  return new Response("Not found\n", { status: 404, headers: { "Content-Type": "text/plain; charset=utf-8" } });
}

function homePage(env: Env, app: App): Response {
  const text = [
    "ema-edge demo MCP server: a notes server protected by ema-edge.",
    "",
    `MCP endpoint (Streamable HTTP, stateless): ${env.RESOURCE}`,
    `Protected Resource Metadata (RFC 9728):   ${app.metadataUrl}`,
    `Authorization server:                     ${env.AS_ISSUER}`,
    "",
    "Tools: list_notes, read_note (notes.read); write_note (notes.write).",
    "Send an ema-edge access token for this resource as `Authorization: Bearer …`.",
    "",
  ].join("\n");
  return new Response(text, { headers: { "Content-Type": "text/plain; charset=utf-8" } });
}

export default {
  async fetch(request, env) {
    try {
      return await route(request, env);
    } catch (error) {
      // Log the kind, never echo it: a message can carry request data (style.md, "Bindings stay at the edges").
      console.error(JSON.stringify({ event: "unhandled_error", name: (error as Error | null)?.name ?? "unknown" }));
      return Response.json({ error: "server_error" }, { status: 500, headers: { "Cache-Control": "no-store" } });
    }
  },
} satisfies ExportedHandler<Env>;
