import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Every test runs inside workerd with the real KV namespace and Durable Object from wrangler.toml.
// The global setup starts the loopback test-IdP host and makes the signing-key secret.
export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      main: "./workers/authorization-server/index.ts",
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        cf: false,
        bindings: { AT_SIGNING_KEYS: inject("signingKeys"), ISSUER: "https://as.example.test" },
      },
    })),
  ],
  test: {
    globalSetup: ["./test/support/idp-server.ts"],
    include: ["test/**/*.test.ts"],
  },
});
