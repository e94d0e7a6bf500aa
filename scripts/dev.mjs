#!/usr/bin/env node
// `npm run dev`: the authorization server on http://localhost:8787 with local KV and Durable Object
// state in .wrangler/state, seeded with config/dev-policy.json and the demo client
// (demo-client / demo-secret). Needs no Cloudflare account and no network.
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_SEND_ERROR_REPORTS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const STATE = ".wrangler/state";

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, env, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

/** The stored form of a client secret: sha256:<salt>:<SHA-256(salt ‖ secret)>, base64url. */
function hashSecret(secret) {
  const salt = randomBytes(16);
  const digest = createHash("sha256").update(salt).update(secret, "utf8").digest();
  return `sha256:${salt.toString("base64url")}:${digest.toString("base64url")}`;
}

if (!existsSync(join(root, ".dev.vars"))) run("node", ["scripts/generate-signing-keys.mjs"]);

const policy = JSON.parse(readFileSync(join(root, "config/dev-policy.json"), "utf8"));
const demoClient = {
  client_id: "demo-client",
  name: "Demo MCP client (development only)",
  status: "active",
  token_endpoint_auth_methods: ["client_secret_basic", "client_secret_post"],
  client_secrets: [{ hash: hashSecret("demo-secret"), created_at: new Date().toISOString() }],
  grant_types: ["urn:ietf:params:oauth:grant-type:jwt-bearer"],
};
const seed = join(mkdtempSync(join(tmpdir(), "ema-edge-")), "seed.json");
writeFileSync(seed, JSON.stringify([
  { key: "policy:v1", value: JSON.stringify(policy) },
  { key: "client:v1:demo-client", value: JSON.stringify(demoClient) },
]));
run("npx", ["wrangler", "kv", "bulk", "put", seed, "--binding", "CONFIG", "--local", "--persist-to", STATE]);

const dev = spawn("npx", ["wrangler", "dev", "--ip", "localhost", "--port", "8787", "--persist-to", STATE, ...process.argv.slice(2)], { cwd: root, env, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code) => process.exit(code ?? 0));
