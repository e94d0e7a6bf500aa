#!/usr/bin/env node
// The `ema-edge` admin CLI launcher. The CLI is TypeScript that shares its validation code with the
// Worker (workers/lib), so it is bundled on first use with esbuild into node_modules/.cache and run
// from there; a changed source is rebundled (scripts/run-ts.mjs).
import { runTs } from "../scripts/run-ts.mjs";

process.exitCode = await runTs("cli/main.ts", process.argv.slice(2));
