#!/usr/bin/env node
// The mutation check (`npm run mutate`): each security check listed in
// mutations/security-checks.yaml is broken in turn, in a copy of the project, and the suite runs
// there; a check whose removal no test notices is "missed", and the run fails. The working tree is
// never written: the project is copied to a temporary directory once per parallel slot.
//
//   npm run mutate                        every mutation
//   npm run mutate -- --only id1,id2      just these
//   npm run mutate -- --list              validate the list against the current tree, run nothing
//   npm run mutate -- --jobs 1            one vitest at a time (default 2: the machine has 2 cores)
//   npm run mutate -- --no-baseline       skip the unmutated run that proves the suite is green
//
// The unmutated suite runs first and must be green. Then each mutation runs its `tests` (a subset,
// ~10 s); only if they all pass does the whole of its `projects` run (~60 s) before it counts as
// missed, and a test that goes red only there is re-run without the mutation, so a flaky or
// unrelated failure is not taken for a catch. A mutation that does not parse, or a run that fails
// without any failing test, is an "error", never "caught". Two copies run side by side (--jobs).
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { transform } from "esbuild";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const LIST = path.join(ROOT, "mutations", "security-checks.yaml");
/** Never copied: VCS, build output, local state; node_modules is symlinked instead. */
const SKIP = new Set([".git", "node_modules", ".wrangler", "dist", "bench-results"]);
/** A vitest run that takes longer than this is killed and reported as an error. */
const RUN_TIMEOUT_MS = 10 * 60_000;
const DEFAULT_PROJECTS = ["workers"];
/** vitest processes in flight, killed on Ctrl-C. */
const running = new Set();

const args = parseArgs(process.argv.slice(2));
const all = loadList();
const selected = args.only ? all.filter((m) => args.only.has(m.id)) : all;
if (args.only) {
  const unknown = [...args.only].filter((id) => !all.some((m) => m.id === id));
  if (unknown.length > 0) die(`unknown mutation id: ${unknown.join(", ")}`);
}

const problems = new Map(selected.map((m) => [m.id, staleness(m, ROOT)]));
if (args.list) {
  for (const m of selected) {
    const problem = problems.get(m.id);
    const where = problem ? m.file : `${m.file}:${lineOf(m, ROOT)}`;
    console.log(`${problem ? "stale" : "ok   "}  ${m.id.padEnd(34)} ${where}${problem ? `  (${problem})` : ""}\n       ${m.check}`);
  }
  const stale = [...problems.values()].filter(Boolean).length;
  console.log(`\n${selected.length} mutations, ${stale} stale`);
  process.exit(stale > 0 ? 1 : 0);
}

await main();

async function main() {
  const started = Date.now();
  const jobs = Math.max(1, Math.min(args.jobs, selected.length || 1));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ema-edge-mutate-"));
  const cleanup = () => fs.rmSync(tmp, { recursive: true, force: true });
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => {
      for (const child of running) killTree(child);
      cleanup();
      process.exit(130);
    });
  }
  const slots = [];
  for (let i = 0; i < jobs; i++) slots.push(makeCopy(path.join(tmp, `slot-${i}`)));
  console.log(`${selected.length} mutations, ${jobs} at a time, copies in ${tmp}`);


  // The unmutated suite first, alone: if it is red (or flaky under load), no "caught" means anything.
  if (args.baseline) {
    const t0 = Date.now();
    const projects = [...new Set(selected.flatMap((m) => m.projects ?? DEFAULT_PROJECTS))];
    const run = await vitest(slots[0], { projects, files: [] });
    console.log(`baseline (${projects.join(", ")}) ${run.kind === "passed" ? "green" : `RED: ${run.detail}`}  ${secs(t0)}`);
    if (run.kind !== "passed") {
      cleanup();
      console.log("the unmutated suite must pass before mutations mean anything (or use --no-baseline)");
      process.exit(1);
    }
  }

  const results = [];
  const queue = [...selected];
  await Promise.all(
    slots.map(async (slot) => {
      for (let m = queue.shift(); m !== undefined; m = queue.shift()) {
        const result = await runMutation(slot, m);
        results.push(result);
        console.log(formatResult(result));
      }
    }),
  );
  cleanup();

  const count = (status) => results.filter((r) => r.status === status).length;
  const caught = count("caught");
  const missed = count("missed");
  const stale = count("stale");
  const errors = count("error");
  console.log("");
  for (const r of results.filter((r) => r.status !== "caught")) console.log(`${r.status.padEnd(6)}  ${r.id}: ${r.check}${r.detail ? ` (${r.detail})` : ""}`);
  const extra = [`${stale} stale`, ...(errors > 0 ? [`${errors} errors`] : [])].join(", ");
  console.log(`${caught} caught, ${missed} missed (${extra}) in ${secs(started)}`);
  process.exit(missed + stale + errors > 0 ? 1 : 0);
}

/** Applies one mutation in `slot`, runs its subset and then, if nothing failed, its projects. */
async function runMutation(slot, m) {
  const t0 = Date.now();
  const base = { id: m.id, check: m.check };
  const problem = staleness(m, slot);
  if (problem) return { ...base, status: "stale", detail: problem, seconds: secs(t0) };
  const file = path.join(slot, m.file);
  const original = fs.readFileSync(file, "utf8");
  const mutated = original.replace(m.find, () => m.replace);
  try {
    await transform(mutated, { loader: path.extname(file) === ".mjs" ? "js" : "ts", sourcefile: m.file });
  } catch (error) {
    return { ...base, status: "error", detail: `the mutated file does not parse: ${firstLine(error.message)}`, seconds: secs(t0) };
  }
  fs.writeFileSync(file, mutated);
  try {
    const projects = m.projects ?? DEFAULT_PROJECTS;
    let run = m.tests.length > 0 ? await vitest(slot, { projects: [projectOf(m)], files: m.tests }) : { kind: "passed" };
    let stage = "subset";
    if (run.kind === "passed") {
      run = await vitest(slot, { projects, files: [] });
      stage = "full";
    }
    if (run.kind === "passed") return { ...base, status: "missed", seconds: secs(t0) };
    if (run.kind !== "failed") return { ...base, status: "error", detail: run.detail, seconds: secs(t0) };
    if (stage === "full") {
      // A test outside the subset went red: make sure it is green without the mutation, so a flaky
      // or unrelated failure is not taken for a catch. (Its file then belongs in `tests`.)
      fs.writeFileSync(file, original);
      const again = await vitest(slot, { projects, files: [run.file] });
      if (again.kind !== "passed") return { ...base, status: "error", detail: `${run.detail} also fails without the mutation`, seconds: secs(t0) };
    }
    return { ...base, status: "caught", stage, detail: run.detail, seconds: secs(t0) };
  } finally {
    fs.writeFileSync(file, original);
  }
}

/** The project a mutation's subset belongs to: demo-mcp-server's tests live under test/demo-mcp-server. */
function projectOf(m) {
  return m.tests.every((t) => t.startsWith("test/demo-mcp-server/")) ? "demo-mcp-server" : "workers";
}

/**
 * Runs vitest in `slot` and classifies the outcome: passed, failed (with the first failing test),
 * or error (a crash, a timeout, or a non-zero exit without any failing test).
 */
function vitest(slot, { projects, files }) {
  const report = path.join(slot, `.mutate-report-${process.pid}.json`);
  fs.rmSync(report, { force: true });
  const argv = [
    path.join(slot, "node_modules", "vitest", "vitest.mjs"),
    "run",
    ...projects.flatMap((p) => ["--project", p]),
    "--bail=1",
    "--reporter=json",
    `--outputFile=${report}`,
    ...files,
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, {
      cwd: slot,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, CI: "true", NO_COLOR: "1", FORCE_COLOR: "0", WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
    });
    running.add(child);
    let output = "";
    const keep = (chunk) => {
      output = (output + chunk).slice(-20_000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killTree(child);
    }, RUN_TIMEOUT_MS);
    child.on("close", (code) => {
      clearTimeout(timer);
      running.delete(child);
      if (timedOut) return resolve({ kind: "error", detail: `vitest ran past ${RUN_TIMEOUT_MS / 1000} s` });
      const failure = firstFailure(report);
      fs.rmSync(report, { force: true });
      if (failure !== undefined) return resolve({ kind: "failed", detail: failure.detail, file: failure.file });
      if (code === 0) return resolve({ kind: "passed" });
      resolve({ kind: "error", detail: `vitest exited ${code} with no failing test: ${lastLines(output)}` });
    });
  });
}


function killTree(child) {
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** The first failing test of a vitest JSON report ("file > title"), or a failed file's message. */
function firstFailure(report) {
  let json;
  try {
    json = JSON.parse(fs.readFileSync(report, "utf8"));
  } catch {
    return undefined;
  }
  for (const file of json.testResults ?? []) {
    const name = path.relative(path.dirname(report), file.name);
    const test = (file.assertionResults ?? []).find((a) => a.status === "failed");
    if (test) return { file: name, detail: `${name} > ${test.fullName ?? test.title}` };
    if (file.status === "failed") return { file: name, detail: `${name}: ${firstLine(file.message ?? "failed")}` };
  }
  return undefined;
}

/** Why a mutation cannot run against `root` as it is now, or undefined. */
function staleness(m, root) {
  const file = path.join(root, m.file);
  if (!fs.existsSync(file)) return `${m.file} does not exist`;
  const text = fs.readFileSync(file, "utf8");
  const n = occurrences(text, m.find);
  if (n !== 1) return n === 0 ? "`find` no longer occurs" : `\`find\` occurs ${n} times`;
  if (m.find === m.replace) return "`replace` equals `find`";
  const missing = m.tests.filter((t) => !fs.existsSync(path.join(root, t)));
  if (missing.length > 0) return `no such test file: ${missing.join(", ")}`;
  return undefined;
}

function occurrences(text, needle) {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) n++;
  return n;
}

function lineOf(m, root) {
  const text = fs.readFileSync(path.join(root, m.file), "utf8");
  return text.slice(0, text.indexOf(m.find)).split("\n").length;
}

/** Copies the project into `dir` (no VCS, build output or local state) and links node_modules. */
function makeCopy(dir) {
  fs.mkdirSync(dir, { recursive: true });
  for (const entry of fs.readdirSync(ROOT)) {
    if (SKIP.has(entry)) continue;
    fs.cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true, verbatimSymlinks: true });
  }
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  return dir;
}

function loadList() {
  let list;
  try {
    list = parseYaml(fs.readFileSync(LIST, "utf8"));
  } catch (error) {
    die(`${path.relative(ROOT, LIST)}: ${firstLine(error.message)}`);
  }
  if (!Array.isArray(list)) die(`${path.relative(ROOT, LIST)}: expected a list`);
  const seen = new Set();
  return list.map((m, i) => {
    const where = `${path.relative(ROOT, LIST)} entry ${i + 1}${m?.id ? ` (${m.id})` : ""}`;
    for (const key of ["id", "check", "file", "find"]) if (typeof m?.[key] !== "string" || m[key] === "") die(`${where}: \`${key}\` must be a non-empty string`);
    if (typeof m.replace !== "string") die(`${where}: \`replace\` must be a string (empty to delete)`);
    if (seen.has(m.id)) die(`${where}: duplicate id`);
    seen.add(m.id);
    const tests = m.tests ?? [];
    if (!Array.isArray(tests) || !tests.every((t) => typeof t === "string")) die(`${where}: \`tests\` must be a list of paths`);
    if (m.projects !== undefined && !(Array.isArray(m.projects) && m.projects.length > 0)) die(`${where}: \`projects\` must be a non-empty list`);
    return { ...m, tests };
  });
}

function parseArgs(argv) {
  const out = { list: false, only: undefined, jobs: 2, baseline: true };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i] ?? die(`${flag} needs a value`);
    if (flag === "--list") out.list = true;
    else if (flag === "--only") out.only = new Set(value().split(",").map((s) => s.trim()).filter(Boolean));
    else if (flag === "--jobs") out.jobs = Number.parseInt(value(), 10) || 1;
    else if (flag === "--no-baseline") out.baseline = false;
    else die(`unknown option ${argv[i]} (use --list, --only id1,id2, --jobs N, --no-baseline)`);
  }
  return out;
}

function formatResult(r) {
  const mark = { caught: "caught", missed: "MISSED", stale: "STALE ", error: "ERROR " }[r.status];
  const how = r.status === "caught" ? `${r.stage === "full" ? "[full run] " : ""}${r.detail}` : (r.detail ?? "");
  return `${mark}  ${r.id.padEnd(34)} ${String(r.seconds).padStart(6)}  ${how}`;
}

function secs(t0) {
  return `${((Date.now() - t0) / 1000).toFixed(1)}s`;
}

function firstLine(text) {
  return String(text).split("\n").find((l) => l.trim() !== "")?.trim().slice(0, 200) ?? "";
}

function lastLines(text) {
  return text.trim().split("\n").slice(-3).join(" | ").slice(0, 400);
}

function die(message) {
  console.error(`mutate: ${message}`);
  process.exit(2);
}
