// The development IdP Worker (NOT FOR PRODUCTION: anyone who reaches it can log in as any seeded
// user). Checks its configuration before routing, refusing every request on a non-loopback ISSUER;
// marks every response `X-Dev-Idp: not-for-production`; and answers an unexpected error with a
// bare server_error, never the exception's text.
import { Router, type IRequest } from "itty-router";
import { handleAdminAction, handleListUsers, handleReset, isAdminAction } from "./admin";
import { checkConfig, type DevIdpConfig } from "./config";
import type { Env } from "./env";
import { errorResponse, jsonNoStore } from "./errors";
import { jwksOf, loadSigningKey, SigningKeyConfigError } from "./keys";
import { handleLogin } from "./login";
import { AUTHORIZE_PATH, buildMetadata, JWKS_PATH, METADATA_PATHS, TOKEN_PATH } from "./metadata";
import { handleTokenExchange } from "./token-exchange";

// Not exported: a Worker's main module may export only handlers and classes.
const DEV_IDP_HEADER = "X-Dev-Idp";
const DEV_IDP_HEADER_VALUE = "not-for-production";

type Args = [env: Env, config: DevIdpConfig];

const publicJson = (body: unknown) => new Response(JSON.stringify(body), { headers: { "Content-Type": "application/json", "Cache-Control": "public, max-age=60" } });

const router = Router<IRequest, Args>()
  .get("/", (_req, _env, config) => jsonNoStore(help(config)))
  .get(METADATA_PATHS[0], async (_req, env, config) => publicJson(buildMetadata(config.issuer, (await loadSigningKey(env)).alg)))
  .get(METADATA_PATHS[1], async (_req, env, config) => publicJson(buildMetadata(config.issuer, (await loadSigningKey(env)).alg)))
  .get(JWKS_PATH, async (_req, env) => publicJson(jwksOf(await loadSigningKey(env))))
  .all(TOKEN_PATH, (req, env, config) => handleTokenExchange(req, env, config))
  // Required by the MCP SDK's metadata schema; there is no browser login to send anyone to.
  .all(AUTHORIZE_PATH, () =>
    jsonNoStore({ error: "unsupported_response_type", error_description: "The dev IdP has no interactive login: POST /dev/login with a username." }, 400),
  )
  .all("/dev/login", (req, env, config) => handleLogin(req, env, config))
  .get("/dev/users", (_req, env) => handleListUsers(env))
  .post("/dev/reset", (_req, env) => handleReset(env))
  .all("/dev/users/:name/:action", (req, env, config) => {
    const { name, action } = req.params;
    if (name === undefined || action === undefined || !isAdminAction(action)) return errorResponse("not_found");
    return handleAdminAction(req, env, config, name, action);
  })
  .all("*", () => errorResponse("not_found"));

export default {
  async fetch(request: Request, env: Env, _ctx: ExecutionContext): Promise<Response> {
    const response = await answer(request, env);
    // Responses from fetch() or Response.redirect can have immutable headers: copy once to be sure.
    const marked = new Response(response.body, response);
    marked.headers.set(DEV_IDP_HEADER, DEV_IDP_HEADER_VALUE);
    return marked;
  },
} satisfies ExportedHandler<Env>;

async function answer(request: Request, env: Env): Promise<Response> {
  const config = checkConfig(env);
  if (!config.ok) return new Response(config.error + "\n", { status: 500, headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" } });
  try {
    return await router.fetch(request, env, config.value);
  } catch (error) {
    if (error instanceof SigningKeyConfigError) {
      // A configuration mistake, named so the developer can fix it; the message never holds key material.
      return new Response(`dev-idp cannot sign: ${error.message}\n`, { status: 500, headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" } });
    }
    console.error(JSON.stringify({ type: "dev-idp.error", path: new URL(request.url).pathname, error: error instanceof Error ? error.name : "unknown" }));
    return jsonNoStore({ error: "server_error" }, 500);
  }
}

/** GET /: where things are, for someone who opened the IdP in a browser. */
function help(config: DevIdpConfig) {
  return {
    warning: "Development IdP: NOT FOR PRODUCTION. Anyone who can reach it can log in as any user.",
    issuer: config.issuer,
    metadata: `${config.issuer}${METADATA_PATHS[0]}`,
    login: `POST ${config.issuer}/dev/login (form: username, client_id?)`,
    token_exchange: `POST ${config.issuer}${TOKEN_PATH}`,
    users: `GET ${config.issuer}/dev/users`,
    admin: `POST ${config.issuer}/dev/users/{name}/{deactivate|remove-group|clear-sessions|reactivate}; POST ${config.issuer}/dev/reset`,
    pushes_to: { okta_event_hook: `${config.emaEdgeBase}/hooks/okta/${config.idpId}`, ssf: `${config.emaEdgeBase}/ssf/${config.idpId}` },
  };
}
