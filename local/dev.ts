// `npm run dev`: ema-edge on http://localhost:8787, the dev IdP on :8788 and the demo MCP server on
// :8789, in one local workerd, with state kept in .wrangler/state (the CLI's `--local` store) and
// secrets in .dev.vars. No Cloudflare account, no network. Ctrl-C stops it.
import { join } from "node:path";
import { DEMO_CLIENT, ROOT, startLocalStack } from "./stack";

export async function main(args: string[]): Promise<number> {
  const verbose = args.includes("--verbose");
  const stack = await startLocalStack({
    persistTo: join(ROOT, ".wrangler", "state"),
    secretsDir: ROOT,
    log: (line) => {
      // Seeding lines always; the Workers' own console (audit events) with --verbose.
      if (verbose || !line.trimStart().startsWith("{")) console.log(`  ${line}`);
    },
  });
  console.log(`
ema-edge local stack ready in ${stack.readyMs} ms
  authorization server  ${stack.urls.as}        (metadata: /.well-known/oauth-authorization-server)
  dev IdP (NOT for production) ${stack.urls.idp}  users alice (engineering), bob (sales), carol (no group)
  demo MCP server       ${stack.urls.resource}   (PRM: ${stack.urls.mcp}/.well-known/oauth-protected-resource/mcp)
  client                ${DEMO_CLIENT.id} / ${DEMO_CLIENT.secret}, registered at both

  npm run demo                 walk the whole flow with the official MCP client
  npx ema-edge policy push …   change policy (picked up within 15 s)
  --verbose                    print the Workers' audit lines
Ctrl-C to stop.`);
  await new Promise<void>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve());
  });
  await stack.stop();
  return 0;
}
