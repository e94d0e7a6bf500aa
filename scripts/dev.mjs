#!/usr/bin/env node
// `npm run dev`: the authorization server on http://localhost:8787 with local KV and Durable Object
// state in .wrangler/state, seeded through the admin CLI: a signing key and an admin token in
// .dev.vars, the example policy (config/policy.example.yaml) and the demo client
// (demo-client / demo-secret).
// Needs no Cloudflare account and no network.
import { spawn, spawnSync } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_SEND_ERROR_REPORTS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const STATE = ".wrangler/state";

function cli(args, { tolerate } = {}) {
  const r = spawnSync("node", ["cli/ema-edge.mjs", ...args, "--persist-to", STATE], { cwd: root, env, encoding: "utf8" });
  const output = (r.stdout + r.stderr).trim();
  if (r.status !== 0 && !(tolerate && tolerate.test(output))) {
    console.error(output);
    process.exit(r.status ?? 1);
  }
  if (output) console.log(output.split("\n")[0]);
}

cli(["keys", "generate"]);
cli(["admin-token", "generate"]);
cli(["policy", "push", "config/policy.example.yaml"]);
cli(["clients", "add", "demo-client", "--name", "Demo MCP client (development only)", "--secret", "demo-secret"], { tolerate: /exists/ });

const dev = spawn("npx", ["wrangler", "dev", "--ip", "localhost", "--port", "8787", "--persist-to", STATE, ...process.argv.slice(2)], { cwd: root, env, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code) => process.exit(code ?? 0));
