// Where the CLI reads and writes KV: the local state `npm run dev` uses (wrangler's platform proxy
// over the same persist directory), or the deployed namespace (`wrangler kv key … --remote`).
// Both go through wrangler; there is no home-made Cloudflare API client.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unstable_readConfig } from "wrangler";
import type { KvStore } from "../workers/lib/kv-store";
import { kvStoreFrom } from "../workers/lib/kv-store";

export interface Target {
  remote: boolean;
  /** wrangler config (wrangler.toml). */
  config: string;
  /** Local persist directory (as `wrangler dev --persist-to`). */
  persistTo: string;
  binding: string;
}

/** Runs a command and returns its stdout; injectable so the remote argument lists can be tested. */
export type Runner = (args: string[], input?: string) => { status: number; stdout: string; stderr: string };

export const wranglerRunner: Runner = (args, input) => {
  const r = spawnSync("npx", ["wrangler", ...args], {
    encoding: "utf8",
    input,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_SEND_ERROR_REPORTS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });
  return { status: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
};

export interface OpenStore {
  kv: KvStore;
  close(): Promise<void>;
}

export async function openStore(target: Target, runner: Runner = wranglerRunner): Promise<OpenStore> {
  return target.remote ? { kv: remoteStore(target, runner), close: async () => {} } : localStore(target);
}

/** The local namespace through wrangler's getPlatformProxy, with only the KV binding configured. */
async function localStore(target: Target): Promise<OpenStore> {
  const { getPlatformProxy } = await import("wrangler");
  const config = readWranglerConfig(target);
  const namespace = config.kv_namespaces.find((n: { binding: string; id?: string }) => n.binding === target.binding);
  if (!namespace) throw new Error(`${target.config} has no KV binding ${target.binding}`);
  // A config with the KV binding alone: the authorization server's Durable Object is not needed here.
  const dir = mkdtempSync(join(tmpdir(), "ema-edge-cli-"));
  const configPath = join(dir, "wrangler.json");
  writeFileSync(configPath, JSON.stringify({ name: "ema-edge-cli", compatibility_date: config.compatibility_date, kv_namespaces: [{ binding: target.binding, id: namespace.id }] }));
  const proxy = await getPlatformProxy<Record<string, KVNamespace>>({ configPath, persist: { path: join(target.persistTo, "v3") } });
  return {
    kv: kvStoreFrom(proxy.env[target.binding]!),
    async close() {
      await proxy.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function remoteStore(target: Target, runner: Runner): KvStore {
  const base = ["--binding", target.binding, "--remote", "--config", target.config];
  const run = (args: string[]) => {
    const r = runner(args);
    if (r.status !== 0) throw new Error(`wrangler ${args.slice(0, 3).join(" ")} failed: ${r.stderr.trim().split("\n").slice(-1)[0] ?? ""}`);
    return r.stdout;
  };
  return {
    async get(key) {
      const r = runner(["kv", "key", "get", key, "--text", ...base]);
      const missing = /value not found|not found/i.test(r.status === 0 ? r.stdout.trim() : r.stderr);
      if (missing && (r.status !== 0 || r.stdout.trim().length < 20)) return null;
      if (r.status !== 0) throw new Error(`wrangler kv key get failed: ${r.stderr.trim().split("\n").slice(-1)[0] ?? ""}`);
      return r.stdout;
    },
    async put(key, value) {
      const dir = mkdtempSync(join(tmpdir(), "ema-edge-put-"));
      try {
        writeFileSync(join(dir, "value"), value, { mode: 0o600 });
        run(["kv", "key", "put", key, "--path", join(dir, "value"), ...base]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    async delete(key) {
      run(["kv", "key", "delete", key, ...base]);
    },
    async list(prefix) {
      const listed = JSON.parse(run(["kv", "key", "list", "--prefix", prefix, ...base])) as { name: string }[];
      return listed.map((k) => k.name).sort();
    },
  };
}

/** The ISSUER var of a wrangler config (where `wrangler dev` serves the Worker locally). */
export function readLocalIssuer(target: Target): string {
  return readWranglerConfig(target).vars?.ISSUER as string;
}

function readWranglerConfig(target: Target) {
  return unstable_readConfig({ config: target.config });
}
