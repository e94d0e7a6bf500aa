#!/usr/bin/env node
// npm links the bins of dependencies into node_modules/.bin, but not the project's own. Without this
// link `npx ema-edge` would look the name up in the registry instead of running cli/ema-edge.mjs.
import { mkdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const bin = join(root, "node_modules", ".bin");
mkdirSync(bin, { recursive: true });
rmSync(join(bin, "ema-edge"), { force: true });
symlinkSync(join("..", "..", "cli", "ema-edge.mjs"), join(bin, "ema-edge"));
