// The whole system on one machine: ema-edge, the dev IdP and the demo MCP server as three Workers in
// one local workerd (Miniflare), each on its own loopback port, sharing ema-edge's KV namespace
// with the MCP server (its verifier reads the revocation mirror). `npm run dev`, `npm run demo` and
// the end-to-end tests all start it here, so what a developer sees is what the tests check.
// State is seeded through the admin CLI itself (keys, admin token, policy, demo client).
import { build } from "esbuild";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare, type WorkerOptions } from "miniflare";
import { main as cli } from "../cli/main";
import { readDevVar } from "../cli/dev-vars";
import type { Io } from "../cli/io";
import { kvStoreFrom } from "../workers/lib/kv-store";
import { readDeployedPolicy } from "../workers/lib/policy-publish";
import { KV_KEYS } from "../workers/lib/kv-records";

/** The project root: the nearest package.json above this module (bundled, it runs from node_modules/.cache). */
export const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
/** The ports and issuers of config/policy.example.yaml and the three wrangler.toml files. */
export const DEFAULT_PORTS = { as: 8787, idp: 8788, mcp: 8789 } as const;
export const DEMO_CLIENT = { id: "demo-client", secret: "demo-secret" } as const;
/** Must match wrangler.toml, so the CLI's `--local` commands and this stack share one store. */
const CONFIG_NAMESPACE_ID = "00000000000000000000000000000000";
const IDP_NAMESPACE_ID = "00000000000000000000000000000001";
const COMPATIBILITY_DATE = "2026-04-20";
const OKTA_HOOK_SECRET = "dev-okta-hook-secret";

export interface StackOptions {
  /** 0 picks a free port (tests); defaults to 8787/8788/8789. */
  ports?: { as: number; idp: number; mcp: number };
  /** wrangler's `--persist-to` directory (state kept across runs); omitted → a throwaway directory. */
  persistTo?: string;
  /** Where .dev.vars (signing keys, admin token) lives; defaults to the throwaway directory or ROOT. */
  secretsDir?: string;
  /** Lines from the seeding CLI and the workers' console; silent when omitted. */
  log?: (line: string) => void;
  /** Opens workerd's DevTools inspector on this port (memory probes force a GC through it). */
  inspectorPort?: number;
}

export interface LocalStack {
  /** ema-edge's issuer, the dev IdP's issuer, the MCP server's resource URI and origin. */
  urls: { as: string; idp: string; resource: string; mcp: string };
  adminToken: string;
  mf: Miniflare;
  /** Milliseconds from the call to ready (bundling, workerd start, seeding). */
  readyMs: number;
  stop(): Promise<void>;
}

export async function startLocalStack(options: StackOptions = {}): Promise<LocalStack> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const ports = await resolvePorts(options.ports ?? DEFAULT_PORTS);
  const scratch = options.persistTo === undefined ? mkdtempSync(join(tmpdir(), "ema-edge-stack-")) : undefined;
  const persistTo = options.persistTo ?? scratch!;
  const secretsDir = options.secretsDir ?? scratch ?? ROOT;
  const urls = {
    as: `http://localhost:${ports.as}`,
    idp: `http://localhost:${ports.idp}`,
    resource: `http://localhost:${ports.mcp}/mcp`,
    mcp: `http://localhost:${ports.mcp}`,
  };

  // Secrets first (the Worker reads them at start): the CLI keeps them in .dev.vars, as for wrangler dev.
  const io = cliIo(secretsDir, log);
  await runCli(io, ["keys", "generate"]);
  await runCli(io, ["admin-token", "generate"]);
  const devVars = join(secretsDir, ".dev.vars");
  const signingKeys = readDevVar(devVars, "AT_SIGNING_KEYS");
  const adminToken = readDevVar(devVars, "ADMIN_TOKEN");
  if (!signingKeys || !adminToken) throw new Error(`${devVars} lacks AT_SIGNING_KEYS or ADMIN_TOKEN`);

  const [as, idp, mcp] = (await Promise.all(["authorization-server", "dev-idp", "demo-mcp-server"].map(bundle))) as [string, string, string];
  const worker = (name: string, script: string, port: number, rest: Partial<WorkerOptions>): WorkerOptions => ({
    name,
    modules: true,
    script,
    compatibilityDate: COMPATIBILITY_DATE,
    // `localhost`, not 127.0.0.1: the issuers are http://localhost:…, and workerd's fetch between
    // Workers resolves localhost (toolchain notes, "Worker-to-worker calls over localhost").
    unsafeDirectSockets: [{ host: "localhost", port }],
    ...rest,
  } as WorkerOptions);
  const mf = new Miniflare({
    cf: false,
    ...(options.inspectorPort !== undefined && { inspectorPort: options.inspectorPort }),
    kvPersist: join(persistTo, "v3", "kv"),
    durableObjectsPersist: join(persistTo, "v3", "do"),
    handleRuntimeStdio: (stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) => {
      for (const stream of [stdout, stderr]) stream.on("data", (chunk: Buffer) => chunk.toString().trimEnd().split("\n").forEach((l) => l && log(l)));
    },
    workers: [
      worker("ema-edge", as, ports.as, {
        bindings: { ISSUER: urls.as, AT_SIGNING_KEYS: signingKeys, ADMIN_TOKEN: adminToken },
        kvNamespaces: { CONFIG: CONFIG_NAMESPACE_ID },
        durableObjects: { SUBJECT_SHARD: { className: "SubjectShard", useSQLite: true } },
        ratelimits: await rateLimitTiers(),
      }),
      worker("dev-idp", idp, ports.idp, {
        bindings: { ISSUER: urls.idp, EMA_EDGE_ISSUER: urls.as, EMA_EDGE_IDP_ID: "dev-idp", OKTA_HOOK_SECRET },
        kvNamespaces: { IDP_STATE: IDP_NAMESPACE_ID },
      }),
      worker("demo-mcp-server", mcp, ports.mcp, {
        bindings: { RESOURCE: urls.resource, AS_ISSUER: urls.as },
        kvNamespaces: { CONFIG: CONFIG_NAMESPACE_ID },
      }),
    ],
  });
  try {
    await mf.ready;
    // Seed through the CLI's own commands, against the running stack's KV.
    // Miniflare's KVNamespace is undici-typed; the binding's surface is the same.
    const kv = kvStoreFrom((await mf.getKVNamespace("CONFIG", "ema-edge")) as unknown as KVNamespace);
    io.openStore = async () => ({ kv, close: async () => {} });
    // A kept state keeps its policy: a restart must not undo what the developer pushed since.
    const deployed = await readDeployedPolicy(kv);
    if (deployed) log(`policy: keeping deployed version ${deployed.version}`);
    else {
      const policy = policyFor(urls, persistTo);
      await runCli(io, ["policy", "push", policy.path]);
      policy.cleanup();
    }
    if (await kv.get(KV_KEYS.client(DEMO_CLIENT.id))) log(`client: keeping ${DEMO_CLIENT.id}`);
    else await runCli(io, ["clients", "add", DEMO_CLIENT.id, "--name", "Demo MCP client (development only)", "--secret", DEMO_CLIENT.secret]);
  } catch (error) {
    await mf.dispose();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    throw error;
  }
  return {
    urls,
    adminToken,
    mf,
    readyMs: Math.round(performance.now() - started),
    async stop() {
      await mf.dispose();
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/** Bundles one Worker as wrangler would (ES module, workerd export conditions), in memory. */
async function bundle(name: string): Promise<string> {
  const out = await build({
    entryPoints: [join(ROOT, "workers", name, "index.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*", "node:*"],
    write: false,
    logLevel: "error",
  });
  return out.outputFiles[0]!.text;
}

/**
 * The example policy, with its URLs moved to the stack's ports when they are not the defaults
 * (the example names http://localhost:8788 and :8789, which tests on free ports cannot use).
 */
function policyFor(urls: LocalStack["urls"], dir: string): { path: string; cleanup(): void } {
  const example = join(ROOT, "config", "policy.example.yaml");
  const text = readFileSync(example, "utf8")
    .replaceAll(`http://localhost:${DEFAULT_PORTS.idp}`, urls.idp)
    .replaceAll(`http://localhost:${DEFAULT_PORTS.mcp}`, urls.mcp);
  if (text === readFileSync(example, "utf8")) return { path: example, cleanup: () => {} };
  const path = join(dir, "policy.stack.yaml");
  writeFileSync(path, text);
  return { path, cleanup: () => existsSync(path) && rmSync(path) };
}

/** The `[[ratelimits]]` tiers of wrangler.toml, as Miniflare takes them: one source of truth. */
async function rateLimitTiers(): Promise<Record<string, { simple: { limit: number; period: 10 | 60 } }>> {
  const { unstable_readConfig } = await import("wrangler");
  const config = unstable_readConfig({ config: join(ROOT, "wrangler.toml") });
  return Object.fromEntries(config.ratelimits.map((r: { name: string; simple: { limit: number; period: number } }) => [r.name, { simple: { limit: r.simple.limit, period: r.simple.period as 10 | 60 } }]));
}

function findRoot(dir: string): string {
  for (let d = dir; d !== dirname(d); d = dirname(d)) if (existsSync(join(d, "package.json")) && existsSync(join(d, "wrangler.toml"))) return d;
  throw new Error(`no project root above ${dir}`);
}

async function resolvePorts(ports: { as: number; idp: number; mcp: number }) {
  return { as: ports.as || (await freePort()), idp: ports.idp || (await freePort()), mcp: ports.mcp || (await freePort()) };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "localhost", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function cliIo(cwd: string, log: (line: string) => void): Io {
  return {
    out: (t) => log(t),
    err: (t) => log(t),
    now: () => new Date(),
    user: "ema-edge-dev",
    cwd,
    runner: () => ({ status: 1, stdout: "", stderr: "the local stack never calls wrangler" }),
    fetch: (...args) => fetch(...args),
    localIssuer: () => `http://localhost:${DEFAULT_PORTS.as}`,
    openStore: () => Promise.reject(new Error("the stack's KV is not open yet")),
  };
}

/** Runs one CLI command in-process. */
async function runCli(io: Io, argv: string[]): Promise<void> {
  const lines: string[] = [];
  const capture: Io = { ...io, out: (t) => (lines.push(t), io.out(t)), err: (t) => (lines.push(t), io.err(t)) };
  const status = await cli(argv, capture);
  if (status !== 0) throw new Error(`ema-edge ${argv[0]} ${argv[1] ?? ""} failed: ${lines.join(" ").slice(0, 300)}`);
}
