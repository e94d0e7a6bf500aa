#!/usr/bin/env node
// The `ema-edge` admin CLI launcher. The CLI is TypeScript that shares its validation code with the
// Worker (workers/lib), so it is bundled on first use with esbuild (already a wrangler dependency)
// into node_modules/.cache and run from there; a changed source is rebundled.
import { build } from "esbuild";
import { mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "node_modules", ".cache", "ema-edge", "cli.mjs");
mkdirSync(dirname(out), { recursive: true });
const result = await build({
  entryPoints: [join(root, "cli", "main.ts")],
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outfile: out,
  packages: "external",
  logLevel: "error",
  metafile: false,
});
if (result.errors.length > 0) process.exit(2);
const { main } = await import(`${pathToFileURL(out).href}?v=${statSync(out).mtimeMs}`);
process.exitCode = await main(process.argv.slice(2));
