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
              bindings: { AT_SIGNING_KEYS: inject("signingKeys"), ISSUER: "https://as.example.test", ADMIN_TOKEN: "test-admin-token" },
            },
          })),
        ],
        test: {
          name: "workers",
          globalSetup: ["./test/support/idp-server.ts"],
          include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts"],
        },
      },
      // The admin CLI, in Node, against real local KV state through wrangler.
      {
        test: { name: "cli", environment: "node", include: ["test/cli/**/*.test.ts"], testTimeout: 30_000 },
      },
    ],
  },
});
