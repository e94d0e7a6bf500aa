// The bench IdP: answers every request with the public JWK set of the key that signs the
// pre-minted ID-JAGs. ema-edge and the peer reach it as `https://idp.bench.test/...` through
// Miniflare's outboundService, so both use an https jwks_uri, as in production.
interface Env {
  IDP_JWKS: string;
}

export default {
  fetch(_request: Request, env: Env): Response {
    return new Response(env.IDP_JWKS, { headers: { "content-type": "application/json", "cache-control": "max-age=600" } });
  },
} satisfies ExportedHandler<Env>;
