// `npm run demo`: the whole flow with the official MCP TypeScript SDK client, as a short transcript
// with timings. Uses a running `npm run dev` when there is one; otherwise starts the three Workers
// itself on free ports with throwaway state. Exits 1 when any step is not as expected.
import { DEFAULT_PORTS, startLocalStack, type LocalStack } from "./stack";
import { runDemoStory, type StoryUrls } from "./demo-story";

export async function main(): Promise<number> {
  const started = performance.now();
  let stack: LocalStack | undefined;
  let urls: StoryUrls | undefined = await runningDev();
  if (urls) console.log(`using the running \`npm run dev\` at ${urls.as}`);
  else {
    stack = await startLocalStack({ ports: { as: 0, idp: 0, mcp: 0 } });
    urls = stack.urls;
    console.log(`started ema-edge, the dev IdP and the demo MCP server in ${stack.readyMs} ms (ema-edge at ${urls.as})`);
  }
  console.log("\nema-edge demo — zero-touch MCP access through the IdP, then a revocation\n");
  let n = 0;
  // The SDK warns on the console when it retries after invalid_grant: shown under its step.
  const warn = console.warn;
  const notes: string[] = [];
  console.warn = (...args: unknown[]) => notes.push(args.join(" "));
  try {
    const steps = await runDemoStory(urls, (s) => {
      console.log(`${s.ok ? "  ✓" : "  ✗"} ${String(++n).padStart(2)}. ${s.title}  (${s.ms} ms)\n        ${s.detail}`);
      for (const note of notes.splice(0)) console.log(`        (sdk) ${note}`);
    });
    const failed = steps.filter((s) => !s.ok).length;
    console.log(`\n${failed === 0 ? "all" : `${steps.length - failed} of`} ${steps.length} steps as expected, ${Math.round(performance.now() - started)} ms in all`);
    return failed === 0 ? 0 : 1;
  } finally {
    console.warn = warn;
    await stack?.stop();
  }
}

/** The default ports, when all three answer as our Workers do. */
async function runningDev(): Promise<StoryUrls | undefined> {
  const at = (port: number) => `http://localhost:${port}`;
  const answers = async (url: string, check: (body: Record<string, unknown>) => boolean) => {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      return response.ok && check((await response.json()) as Record<string, unknown>);
    } catch {
      return false;
    }
  };
  const urls = { as: at(DEFAULT_PORTS.as), idp: at(DEFAULT_PORTS.idp), mcp: at(DEFAULT_PORTS.mcp), resource: `${at(DEFAULT_PORTS.mcp)}/mcp` };
  const up = await Promise.all([
    answers(`${urls.as}/.well-known/oauth-authorization-server`, (b) => b.issuer === urls.as),
    answers(`${urls.idp}/.well-known/oauth-authorization-server`, (b) => b.issuer === urls.idp),
    answers(`${urls.mcp}/.well-known/oauth-protected-resource/mcp`, (b) => b.resource === urls.resource),
  ]);
  return up.every(Boolean) ? urls : undefined;
}
