import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      // The Worker's code, inside workerd with the real KV namespace and Durable Object from
      // wrangler.toml. The global setup starts the loopback test-IdP host and makes the signing key.
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            main: "./workers/authorization-server/index.ts",
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              cf: false,
              bindings: { AT_SIGNING_KEYS: inject("signingKeys"), ISSUER: "https://as.example.test", ADMIN_TOKEN: "test-admin-token-0123456789abcdef0123456789" },
              // "strict" is tiny so a test can cross it; the others never bind across the suite's requests.
              ratelimits: {
                RATE_LIMIT_STRICT: { simple: { limit: 3, period: 60 } },
                RATE_LIMIT_STANDARD: { simple: { limit: 1_000_000, period: 60 } },
                RATE_LIMIT_GENEROUS: { simple: { limit: 1_000_000, period: 60 } },
              },
            },
          })),
        ],
        test: {
          name: "workers",
          globalSetup: ["./test/support/idp-server.ts"],
          include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts", "test/fuzz/**/*.test.ts"],
        },
      },
      // The development IdP, inside workerd with its own KV namespace.
      {
        plugins: [cloudflareTest({ main: "./workers/dev-idp/index.ts", wrangler: { configPath: "./workers/dev-idp/wrangler.toml" }, miniflare: { cf: false } })],
        test: { name: "dev-idp", globalSetup: ["./test/dev-idp/support/recorder.mjs"], include: ["test/dev-idp/**/*.test.ts"] },
      },
      // The demo MCP server, inside workerd. The global setup stands in for ema-edge's JWKS endpoint
      // on a loopback port; AS_ISSUER points there, so the real verifier fetches real keys.
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            main: "./workers/demo-mcp-server/index.ts",
            wrangler: { configPath: "./workers/demo-mcp-server/wrangler.toml" },
            miniflare: { cf: false, bindings: { AS_ISSUER: inject("demoAsIssuer") } },
          })),
        ],
        test: { name: "demo-mcp-server", globalSetup: ["./test/demo-mcp-server/support/as-jwks-host.mjs"], include: ["test/demo-mcp-server/**/*.test.ts"] },
      },
      // End to end: the three workers in one local workerd (Miniflare), driven by the official MCP client.
      {
        test: { name: "e2e", environment: "node", include: ["test/e2e/**/*.test.ts"], testTimeout: 60_000, hookTimeout: 60_000 },
      },
      // The admin CLI, in Node, against real local KV state through wrangler.
      {
        test: { name: "cli", environment: "node", include: ["test/cli/**/*.test.ts"], testTimeout: 30_000 },
      },
    ],
  },
});
