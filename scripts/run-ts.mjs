#!/usr/bin/env node
// Runs one of the project's Node-side TypeScript entry points (local/dev.ts, local/demo.ts,
// cli/main.ts through cli/ema-edge.mjs): bundled with esbuild (a wrangler dependency already) into
// node_modules/.cache, packages kept external, then imported; its `main(args)` gives the exit code.
// Node 20 cannot run TypeScript itself.
import { build } from "esbuild";
import { mkdirSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export async function runTs(entry, args) {
  const out = join(root, "node_modules", ".cache", "ema-edge", basename(entry).replace(/\.ts$/, ".mjs"));
  mkdirSync(dirname(out), { recursive: true });
  const result = await build({
    entryPoints: [resolve(root, entry)],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile: out,
    packages: "external",
    logLevel: "error",
  });
  if (result.errors.length > 0) return 2;
  const { main } = await import(`${pathToFileURL(out).href}?v=${statSync(out).mtimeMs}`);
  return main(args);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [entry, ...args] = process.argv.slice(2);
  if (!entry) {
    console.error("usage: node scripts/run-ts.mjs FILE.ts [args…]");
    process.exit(2);
  }
  process.exitCode = await runTs(resolve(entry), args);
}
