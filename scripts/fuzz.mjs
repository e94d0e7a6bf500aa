#!/usr/bin/env node
// `npm run fuzz`: the fast-check properties of test/fuzz/ at fuzzing strength, inside workerd, then
// one line per parser with the number of cases it ran: 10,000 per parser and 10,000 requests per
// end-to-end HTTP property. Override with FUZZ_RUNS / FUZZ_HTTP_RUNS; extra arguments go to vitest
// (e.g. a file filter: `npm run fuzz -- test/fuzz/policy`).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const runs = process.env.FUZZ_RUNS ?? "10000";
const httpRuns = process.env.FUZZ_HTTP_RUNS ?? "10000";
const vitest = fileURLToPath(new URL("../node_modules/vitest/vitest.mjs", import.meta.url));
const args = [vitest, "run", "--project", "workers", ...(process.argv.length > 2 ? process.argv.slice(2) : ["test/fuzz"])];

const started = Date.now();
const child = spawn(process.execPath, args, {
  stdio: ["ignore", "pipe", "inherit"],
  env: {
    ...process.env,
    // Read in the tests as import.meta.env (vite passes VITE_* through to workerd).
    VITE_FUZZ_RUNS: runs,
    VITE_FUZZ_HTTP_RUNS: httpRuns,
    VITE_FUZZ_REPORT: "1",
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
  },
});

const counts = [];
let pending = "";
const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*m/g, "");
child.stdout.on("data", (chunk) => {
  pending += chunk.toString();
  const lines = pending.split("\n");
  pending = lines.pop() ?? "";
  for (const raw of lines) {
    const line = stripAnsi(raw);
    const match = /\[fuzz\] (.+): (\d+) runs$/.exec(line);
    if (match) counts.push({ parser: match[1], runs: Number(match[2]) });
    // The per-property lines go into the table below; everything else passes through.
    else if (!/^stdout \| /.test(line)) process.stdout.write(raw + "\n");
  }
});

child.on("close", (code) => {
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const width = Math.max(6, ...counts.map((c) => c.parser.length));
  console.log(`\nfuzz: cases run per parser (FUZZ_RUNS=${runs}, FUZZ_HTTP_RUNS=${httpRuns})`);
  console.log(`  ${"parser".padEnd(width)}  runs`);
  for (const { parser, runs: n } of counts) console.log(`  ${parser.padEnd(width)}  ${n.toLocaleString("en-US")}`);
  const total = counts.reduce((sum, c) => sum + c.runs, 0);
  console.log(`  ${"total".padEnd(width)}  ${total.toLocaleString("en-US")} cases in ${counts.length} properties, ${seconds} s${code === 0 ? "" : " — FAILED (see above)"}`);
  process.exit(code ?? 1);
});
