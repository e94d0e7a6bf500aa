// vitest globalSetup (runs in Node): stands in for ema-edge's JWKS endpoint. Generates one ES256
// access-token signing key, serves its public half at /.well-known/jwks.json on a loopback port
// (where the demo server's verifier fetches it: `${AS_ISSUER}/.well-known/jwks.json`), and hands
// the issuer URL and the private JWK to tests running in workerd through provide/inject.
// Plain .mjs, not .ts: a Node module in the tsc program drags @types/node's globals into the
// Workers code (tsconfig.json excludes test/support/idp-server.ts for the same reason).
import { createServer } from "node:http";
import { exportJWK, generateKeyPair } from "jose";

const KID = "demo-as-test";

/** @param {import("vitest/node").TestProject} project */
export default async function setup(project) {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: KID, alg: "ES256", use: "sig" }] });
  const server = createServer((req, res) => {
    const found = req.method === "GET" && req.url === "/.well-known/jwks.json";
    res.writeHead(found ? 200 : 404, { "content-type": "application/json" });
    res.end(found ? jwks : '{"error":"not_found"}');
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  project.provide("demoAsIssuer", `http://127.0.0.1:${port}`);
  project.provide("demoAsSigningKey", JSON.stringify({ ...(await exportJWK(privateKey)), kid: KID, alg: "ES256" }));
  return async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(() => resolve(undefined)));
  };
}
