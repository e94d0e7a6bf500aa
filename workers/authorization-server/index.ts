// The authorization server Worker: routes, a request id on every response, and a catch-all that
// answers a bare server_error (nothing of an exception reaches the caller).
import { Router, type IRequest } from "itty-router";
import type { Env } from "./env";
import { loadPolicy } from "./config/policy-store";
import { refuseAuthorization } from "./handlers/authorize";
import { buildMetadata } from "./handlers/metadata";
import { handleAdminRevocation } from "./handlers/admin";
import { handleIntrospection } from "./handlers/introspect";
import { handleRevocation } from "./handlers/revoke";
import { handleTokenRequest } from "./handlers/token";
import { handleOktaHook } from "./webhooks/okta-hook";
import { handleSsfPush } from "./webhooks/ssf";
import { handleUniversalLogout } from "./webhooks/universal-logout";
import { limitPerAddress } from "./http/address-limit";
import { ENDPOINT_PATHS, issuerPath, metadataPath } from "./http/endpoints";
import { jsonNoStore, serverErrorResponse } from "./oauth/errors";
import { loadSigningKeys } from "./tokens/signing-keys";

export { SubjectShard } from "./revocation/subject-shard";

type Args = [env: Env, ctx: ExecutionContext, requestId: string];

function buildRouter(issuer: string) {
  const base = issuerPath(issuer);
  return Router<IRequest, Args>()
    .get(metadataPath(issuer), async (_req, env) => {
      const policy = await loadPolicy(env.CONFIG, env.ISSUER, Math.floor(Date.now() / 1000));
      return publicJson(buildMetadata(env.ISSUER, policy.ok ? policy.value.doc : undefined));
    })
    .get(base + ENDPOINT_PATHS.jwks, async (_req, env) => {
      const keys = await loadSigningKeys(env.AT_SIGNING_KEYS);
      return new Response(keys.jwksJson, { headers: { "Content-Type": "application/json", "Cache-Control": "public, max-age=300" } });
    })
    .all(base + ENDPOINT_PATHS.authorize, () => refuseAuthorization())
    .all(base + ENDPOINT_PATHS.token, limitPerAddress("token", (req, env, ctx: ExecutionContext, requestId: string) => handleTokenRequest(req, env, requestId, ctx)))
    .all(base + ENDPOINT_PATHS.introspect, limitPerAddress("introspection", (req, env, ctx: ExecutionContext, requestId: string) => handleIntrospection(req, env, ctx, requestId)))
    .all(base + ENDPOINT_PATHS.revoke, limitPerAddress("introspection", (req, env, ctx: ExecutionContext, requestId: string) => handleRevocation(req, env, ctx, requestId)))
    .all(`${base}${ENDPOINT_PATHS.oktaHook}/:issuerId`, limitPerAddress("webhooks", (req: IRequest, env, ctx: ExecutionContext, requestId: string) => handleOktaHook(req, env, ctx, requestId, req.params.issuerId)))
    .all(`${base}${ENDPOINT_PATHS.ssf}/:issuerId`, limitPerAddress("webhooks", (req: IRequest, env, ctx: ExecutionContext, requestId: string) => handleSsfPush(req, env, ctx, requestId, req.params.issuerId)))
    .all(`${base}${ENDPOINT_PATHS.universalLogout}/:issuerId`, limitPerAddress("webhooks", (req: IRequest, env, ctx: ExecutionContext, requestId: string) => handleUniversalLogout(req, env, ctx, requestId, req.params.issuerId)))
    // Counted with the webhooks: both are revocation intake, and a guessed admin token is slowed down.
    .all(`${base}/admin/revocations`, limitPerAddress("webhooks", (req, env, _ctx: ExecutionContext, requestId: string) => handleAdminRevocation(req, env, requestId)))
    .all("*", () => jsonNoStore({ error: "not_found" }, 404));
}

const publicJson = (body: unknown) =>
  new Response(JSON.stringify(body), { headers: { "Content-Type": "application/json", "Cache-Control": "public, max-age=300" } });

let router: { issuer: string; instance: ReturnType<typeof buildRouter> } | undefined;

export default {
  async fetch(request, env, ctx) {
    const requestId = crypto.randomUUID();
    let response: Response;
    try {
      if (router?.issuer !== env.ISSUER) router = { issuer: env.ISSUER, instance: buildRouter(env.ISSUER) };
      response = await router.instance.fetch(request, env, ctx, requestId);
    } catch (error) {
      console.error(JSON.stringify({ type: "ema.error", request_id: requestId, error: error instanceof Error ? error.name : "unknown" }));
      response = serverErrorResponse();
    }
    response.headers.set("X-Request-Id", requestId);
    return response;
  },
} satisfies ExportedHandler<Env>;
