#!/usr/bin/env node
// A/B of two source trees of ema-edge under the same load, interleaved in one workerd, for deciding
// whether a change helps: `node bench/ab.mjs --a /tmp/before --b .` (each a directory holding
// `workers/`; `node_modules` is this checkout's). Rounds alternate the order (AB, BA, …); it prints
// each round's rps and the median of the per-round B/A ratios. Not part of `npm run bench`.
import path from "node:path";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { runLoad } from "./load.mjs";
import * as F from "./fixtures.mjs";

process.env.WRANGLER_SEND_METRICS = "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const A = path.resolve(arg("a", ROOT));
const B = path.resolve(arg("b", ROOT));
const ROUNDS = Number(arg("rounds", 6));
const DURATION_S = Number(arg("duration", 3));
const WARMUP_S = Number(arg("warmup", 1));
const CONCURRENCY = Number(arg("concurrency", 32));
const MAX = 20000;
const log = (...a) => console.error("[ab]", ...a);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

if (fs.existsSync("/dev/shm")) process.env.TMPDIR = fs.mkdtempSync("/dev/shm/ema-edge-ab-");
process.on("exit", () => process.env.TMPDIR?.startsWith("/dev/shm/") && fs.rmSync(process.env.TMPDIR, { recursive: true, force: true }));

async function bundle(root) {
  const out = await build({
    entryPoints: [path.join(root, "workers/authorization-server/index.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    write: false,
    minify: true,
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*", "node:*"],
    nodePaths: [path.join(ROOT, "node_modules")],
    logLevel: "error",
  });
  return out.outputFiles[0].text;
}

const BASIC = `Basic ${Buffer.from(`${F.CLIENT_ID}:${F.CLIENT_SECRET}`).toString("base64")}`;
const exchange = (assertion) => ({
  headers: { "content-type": "application/x-www-form-urlencoded", authorization: BASIC },
  body: new URLSearchParams({ grant_type: F.JWT_BEARER, assertion, scope: "notes.read notes.write", resource: F.RESOURCE }).toString(),
});

/** workerd's CPU seconds so far (user + system), from /proc: less noisy than rps on a shared box. */
function workerdPids() {
  return fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d)).filter((d) => {
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
      return stat.includes("(workerd)") && stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1] === String(process.pid);
    } catch {
      return false;
    }
  });
}
function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) {
    const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").slice(fs.readFileSync(`/proc/${pid}/stat`, "utf8").lastIndexOf(")") + 2).split(" ");
    ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / 100; // USER_HZ
}

async function main() {
  const keys = F.makeKeys();
  const [srcA, srcB] = await Promise.all([bundle(A), bundle(B)]);
  const ports = { a: 41000 + Math.floor(Math.random() * 1000), b: 0 };
  ports.b = ports.a + 1;
  const shard = { SUBJECT_SHARD: { className: "SubjectShard", useSQLite: true } };
  const worker = (name, script, port) => ({
    name,
    modules: true,
    compatibilityDate: "2026-04-20",
    script,
    bindings: { ISSUER: F.ISSUER, AT_SIGNING_KEYS: keys.atSigningKeys },
    kvNamespaces: { CONFIG: `${name}-config` },
    durableObjects: shard,
    outboundService: "idp",
    unsafeDirectSockets: [{ host: "127.0.0.1", port }],
  });
  const mf = new Miniflare({
    cf: false,
    handleRuntimeStdio: (o, e) => {
      o.resume();
      e.resume();
    },
    workers: [
      worker("a", srcA, ports.a),
      worker("b", srcB, ports.b),
      { name: "idp", modules: true, compatibilityDate: "2026-04-20", script: `export default { fetch: (r, env) => new Response(env.IDP_JWKS, { headers: { "content-type": "application/json" } }) }`, bindings: { IDP_JWKS: keys.idpJwks } },
    ],
  });
  await mf.ready;
  const pids = workerdPids();
  if (pids.length === 0) log("workerd not found under this process: no CPU column");
  try {
    for (const name of ["a", "b"]) {
      const kv = await mf.getKVNamespace("CONFIG", name);
      await kv.put("policy:v1", JSON.stringify(F.benchPolicy()));
      await kv.put(`client:v1:${F.CLIENT_ID}`, JSON.stringify(F.emaClientRecord()));
      const r = await fetch(`http://127.0.0.1:${ports[name]}/oauth2/token`, { method: "POST", ...exchange(F.mintAssertions(keys.idp, 1)[0]) });
      if (r.status !== 200) throw new Error(`${name}: sanity ${r.status} ${await r.text()}`);
    }
    const rps = { a: [], b: [] };
    const p99 = { a: [], b: [] };
    const ratios = [];
    const cpu = { a: [], b: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 ? ["b", "a"] : ["a", "b"];
      for (const name of order) {
        const pool = F.mintAssertions(keys.idp, MAX);
        const c0 = cpuSeconds(pids);
        const r = await runLoad({ url: `http://127.0.0.1:${ports[name]}/oauth2/token`, request: (i) => exchange(pool[i]), concurrency: CONCURRENCY, durationMs: DURATION_S * 1000, warmupMs: WARMUP_S * 1000, maxRequests: MAX });
        if (r.errors) throw new Error(`${name}: ${r.errors} errors, ${r.firstError}`);
        const done = Object.values(r.statuses).reduce((x, y) => x + y, 0);
        cpu[name].push(((cpuSeconds(pids) - c0) / done) * 1e6);
        rps[name].push(r.rps);
        p99[name].push(r.p99 / r.p50);
      }
      ratios.push(rps.b[round] / rps.a[round]);
      log(`round ${round + 1}: A ${rps.a[round].toFixed(0)} rps, B ${rps.b[round].toFixed(0)} rps, B/A ${ratios[round].toFixed(3)}; workerd CPU µs/request A ${cpu.a[round].toFixed(0)}, B ${cpu.b[round].toFixed(0)}`);
    }
    console.log(
      `A ${path.relative(ROOT, A) || "."}: median ${median(rps.a).toFixed(0)} rps (${rps.a.map((x) => x.toFixed(0)).join(" ")}); ` +
        `B ${path.relative(ROOT, B) || "."}: median ${median(rps.b).toFixed(0)} rps (${rps.b.map((x) => x.toFixed(0)).join(" ")}); ` +
        `median B/A ${median(ratios).toFixed(3)} (per round ${ratios.map((x) => x.toFixed(2)).join(" ")}); B wins ${ratios.filter((x) => x > 1).length}/${ROUNDS}; ` +
        `workerd CPU µs/request median A ${median(cpu.a).toFixed(0)}, B ${median(cpu.b).toFixed(0)}, B/A ${median(cpu.b.map((x, i) => x / cpu.a[i])).toFixed(3)}`,
    );
  } finally {
    await mf.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
