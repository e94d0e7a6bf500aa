// `npm run soak [-- --duration 540 --concurrency 12 --client-tier generous]`: a bounded soak of the
// local stack (ema-edge, dev IdP, demo MCP server on free ports, throwaway state). For --duration
// seconds it keeps --concurrency requests in flight — valid exchanges and introspection, the dev
// IdP's flows, replays, hostile requests, Okta Event Hook and SSF revocations, forged webhooks — and
// checks each answer exactly. Then it checks that every acknowledged revocation is in force and in
// the KV mirror, and that workerd's RSS after a forced full GC of ema-edge's isolate did not grow
// (raw RSS is reported too, but it grows with V8's GC timing; see local/soak-memory.ts). Exits 1 on any wrong answer or failed check.
import { DEMO_CLIENT, freePort, startLocalStack } from "./stack";
import { connectIsolateGc, type IsolateGc } from "./inspector-gc";
import { kvStoreFrom } from "../workers/lib/kv-store";
import type { PolicySource } from "../workers/lib/policy-file";
import { publishPolicy, readDeployedPolicy } from "../workers/lib/policy-publish";
import { hashSharedSecret } from "../workers/lib/shared-secret";
import { percentile, Tally } from "./soak-check";
import { hostileIntrospect, hostileToken } from "./soak-hostile";
import { SOAK_HOOK_SECRET, SOAK_IDP_ID, startSoakIdp, type SoakIdp } from "./soak-idp";
import { findWorkerd, MAX_GC_RSS_GROWTH_MB, MAX_GC_RSS_GROWTH_PCT, RssSampler, type Growth } from "./soak-memory";
import { challenge, forgedOkta, forgedSsf, recheck, revoke, verifyAll } from "./soak-revocation";
import { Traffic } from "./soak-traffic";

const TIERS = ["keep", "strict", "standard", "generous", "off"] as const;
/**
 * How long single-use state grows before it is pruned: an ID-JAG's 300 s lifetime + 60 s skew, and a
 * minute's margin. A 540 s soak (the default) judges memory over its last two minutes.
 */
const STATE_WINDOW_SECONDS = 420;
type ClientTier = (typeof TIERS)[number];

interface Options {
  durationSeconds: number;
  concurrency: number;
  /** The soak policy's per_client tier for token and introspection; "keep" leaves the defaults. */
  clientTier: ClientTier;
  sentinels: number;
  /** Seconds of traffic before the RSS samples that are judged (caches fill, SQLite pages grow). */
  warmupSeconds: number;
  verbose: boolean;
}

/** Pause between RSS samples; each sample also forces a full GC of ema-edge's isolate. */
const RSS_SAMPLE_EVERY_MS = 2000;
/** The rate-limit bindings count per 60 s (http/rate-limit.ts RETRY_AFTER_SECONDS). */
const RATE_LIMIT_WINDOW_SECONDS = 60;
const PROGRESS_EVERY_MS = 10_000;
/**
 * ema-edge refetches a key set at most once per issuer per 30 s per isolate (jwks/cache.ts); the
 * soak sends unknown kids all the time, so after the first fetch that is the expected rate.
 */
const JWKS_REFETCH_COOLDOWN_SECONDS = 30;
/** Fetches this close to the first one count as the cold start (concurrent first requests). */
const JWKS_COLD_START_MS = 2000;

/** Relative weights of the request kinds. */
const MIX: [weight: number, run: (t: Traffic) => Promise<void>][] = [
  [30, (t) => t.exchange()],
  [14, (t) => t.introspect()],
  [5, (t) => t.replay()],
  [14, hostileToken],
  [4, hostileIntrospect],
  [4, (t) => t.idpFlow()],
  [3, (t) => revoke(t, "okta_event_hook")],
  [3, (t) => revoke(t, "ssf")],
  [4, forgedOkta],
  [4, forgedSsf],
  [4, (t) => recheck(t)],
  [1, challenge],
];
const TOTAL_WEIGHT = MIX.reduce((sum, [w]) => sum + w, 0);

export async function main(args: string[]): Promise<number> {
  const options = parseOptions(args);
  if (typeof options === "string") {
    console.error(options);
    return 2;
  }
  const started = performance.now();
  // The inspector lets the memory sampler force a full GC of ema-edge's isolate before each sample.
  const inspectorPort = await freePort();
  const stack = await startLocalStack({ ports: { as: 0, idp: 0, mcp: 0 }, inspectorPort, ...(options.verbose && { log: (l: string) => console.log(`  [stack] ${l}`) }) });
  const idp = await startSoakIdp({ audience: stack.urls.as, resource: stack.urls.resource, clientId: DEMO_CLIENT.id });
  let gc: IsolateGc | undefined;
  try {
    // Before any request: each isolate caches the policy for up to 15 s once it has read it.
    const version = await trustSoakIdp(stack.mf, idp, stack.urls.resource, options.clientTier);
    console.log(`stack up in ${stack.readyMs} ms (ema-edge ${stack.urls.as}); soak IdP ${idp.issuer} trusted by policy v${version}; per-client rate tier: ${tierNote(options.clientTier)}`);

    const tally = new Tally();
    const traffic = new Traffic(stack, idp, tally, options.clientTier === "keep");
    await traffic.init(options.sentinels);
    const pids = findWorkerd();
    // An idle isolate answers the inspector only on its next request: the final sample, after the
    // traffic, wakes it with a metadata GET (not counted in the tally).
    const wake = async () => (await fetch(`${stack.urls.as}/.well-known/oauth-authorization-server`)).arrayBuffer();
    gc = await connectIsolateGc(inspectorPort, { wake }).catch((error: unknown) => {
      console.log(`note: cannot force GCs through the inspector on port ${inspectorPort} (${error instanceof Error ? error.message : String(error)}); the memory check will fail`);
      return undefined;
    });
    const sampler = new RssSampler(pids[0], started, gc, () => tally.requests);
    sampler.start(RSS_SAMPLE_EVERY_MS);
    if (pids.length !== 1) console.log(`note: ${pids.length} workerd children found (${pids.join(", ")}); sampling ${pids[0] ?? "none"}`);

    const runStarted = performance.now();
    const deadline = runStarted + options.durationSeconds * 1000;
    const progress = setInterval(() => {
      const s = (performance.now() - runStarted) / 1000;
      const last = sampler.samples.at(-1);
      console.log(
        `  ${s.toFixed(0).padStart(4)} s  ${tally.requests} requests (${(tally.requests / s).toFixed(0)}/s)  wrong ${tally.wrongCount}  revocations ${traffic.revocations.length}  workerd RSS raw ${last?.rssMb.toFixed(0) ?? "?"} MB, post-GC ${last?.gcRssMb?.toFixed(0) ?? "?"} MB`,
      );
    }, PROGRESS_EVERY_MS);
    const worker = async () => {
      while (performance.now() < deadline) {
        const run = pickWeighted();
        await run(traffic).catch((error: unknown) => tally.fail("soak", "no exception in the soak itself", error instanceof Error ? `${error.name}: ${error.message}` : String(error)));
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    clearInterval(progress);
    const runSeconds = (performance.now() - runStarted) / 1000;
    const runRequests = tally.requests;
    await sampler.stop();

    console.log(`traffic done: ${runRequests} requests in ${runSeconds.toFixed(1)} s; verifying ${traffic.revocations.length} revocations…`);
    if (traffic.throttleable) {
      // The deployed limits are likely spent: wait the window out, then accept no 429 while verifying.
      console.log(`waiting ${RATE_LIMIT_WINDOW_SECONDS} s for the rate-limit window to pass before verifying (--client-tier keep)`);
      await new Promise((resolve) => setTimeout(resolve, RATE_LIMIT_WINDOW_SECONDS * 1000));
      traffic.throttleable = false;
    }
    const verification = await verifyAll(traffic, options.concurrency);
    const warmup = options.warmupSeconds + (runStarted - started) / 1000;
    const memory = sampler.verdict(warmup);
    const jwks = jwksFetchReport(idp.jwksFetches(), options.durationSeconds);

    const failures: string[] = [];
    if (tally.wrongCount > 0) failures.push(`${tally.wrongCount} wrong answers`);
    if (tally.serverErrorsOnValid > 0) failures.push(`${tally.serverErrorsOnValid} 5xx on valid requests`);
    if (verification.verified !== verification.acknowledged) failures.push(`${verification.acknowledged - verification.verified} acknowledged revocations not verified`);
    // Single-use state (spent jti rows, kept until the ID-JAG could no longer be accepted) grows by
    // design until that window fills; memory is judged only on a run that outlasts it.
    const memoryJudged = options.warmupSeconds >= STATE_WINDOW_SECONDS;
    if (memory.failure && memoryJudged) failures.push(memory.failure);
    if (!memoryJudged) console.log(`memory: reported, not judged — judge it with --duration ${STATE_WINDOW_SECONDS + 120} (the warm-up must outlast the ${STATE_WINDOW_SECONDS} s single-use window)`);
    if (jwks.later > jwks.bound) failures.push(`the soak IdP's JWKS was fetched ${jwks.later} times after the cold start (bound ${jwks.bound})`);
    if (runSeconds < options.durationSeconds) failures.push(`ran ${runSeconds.toFixed(1)} s, less than ${options.durationSeconds} s`);

    printSummary({ tally, traffic, runSeconds, runRequests, memory, verification, jwks, options, warmup });
    console.log(failures.length === 0 ? "\nSOAK PASSED" : `\nSOAK FAILED: ${failures.join("; ")}`);
    return failures.length === 0 ? 0 : 1;
  } finally {
    gc?.close();
    await idp.close();
    await stack.stop();
  }
}

/** Cold-start fetches (concurrent first misses) apart from the steady state the cool-down bounds. */
function jwksFetchReport(times: readonly number[], durationSeconds: number): { cold: number; later: number; bound: number } {
  const first = times[0] ?? 0;
  const cold = times.filter((t) => t - first <= JWKS_COLD_START_MS).length;
  return { cold, later: times.length - cold, bound: Math.ceil(durationSeconds / JWKS_REFETCH_COOLDOWN_SECONDS) + 1 };
}

function pickWeighted(): (t: Traffic) => Promise<void> {
  let r = Math.random() * TOTAL_WEIGHT;
  for (const [weight, run] of MIX) if ((r -= weight) < 0) return run;
  return MIX[0]![1];
}

/**
 * Adds the soak IdP to the deployed policy: trusted for ID-JAGs (RS256, ES256), with an Okta hook
 * secret the soak knows and an SSF stream verified with its keys, and a rule like engineering-notes.
 */
export async function trustSoakIdp(mf: Awaited<ReturnType<typeof startLocalStack>>["mf"], idp: SoakIdp, resource: string, tier: ClientTier): Promise<number> {
  const kv = kvStoreFrom((await mf.getKVNamespace("CONFIG", "ema-edge")) as unknown as KVNamespace);
  const deployed = await readDeployedPolicy(kv);
  if (deployed === undefined) throw new Error("the stack has no policy to amend");
  const source = {
    ...deployed,
    issuers: [
      ...deployed.issuers,
      {
        id: SOAK_IDP_ID,
        issuer: idp.issuer,
        jwks_uri: `${idp.issuer}/jwks.json`,
        algorithms: ["RS256", "ES256"],
        groups_claim: "groups",
        default_resource: resource,
        max_assertion_lifetime_seconds: 300,
        revocation: { okta_event_hook: { secret_sha256: [await hashSharedSecret(SOAK_HOOK_SECRET)], group_removal: "revoke" }, ssf: {} },
      },
    ],
    rules: [
      ...deployed.rules,
      {
        id: "soak-engineering",
        issuers: [SOAK_IDP_ID],
        groups: ["engineering"],
        resources: [resource],
        scopes: ["notes.read", "notes.write"],
        owner: "soak@example.com",
        approved_by: "soak@example.com",
        reason: "npm run soak: synthetic subjects of the soak's own IdP.",
        review_by: "2099-12-31",
      },
    ],
    ...(tier !== "keep" && { rate_limits: { ...deployed.rate_limits, token: { ...deployed.rate_limits?.token, per_client: tier }, introspection: { ...deployed.rate_limits?.introspection, per_client: tier } } }),
  } as unknown as PolicySource;
  const doc = await publishPolicy(kv, source, { at: new Date().toISOString(), by: "ema-edge-soak" });
  return doc.version;
}

const tierNote = (tier: ClientTier) =>
  tier === "keep" ? "the deployed defaults (429 accepted after authentication)" : `'${tier}' for token and introspection (--client-tier; one soak client sends more than a real one)`;

function parseOptions(args: string[]): Options | string {
  const options: Options = { durationSeconds: STATE_WINDOW_SECONDS + 120, concurrency: 12, clientTier: "generous", sentinels: 6, warmupSeconds: -1, verbose: false };
  for (let i = 0; i < args.length; i++) {
    const [name, inline] = args[i]!.split("=", 2) as [string, string | undefined];
    const value = () => inline ?? args[++i];
    const int = (min: number, max: number) => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} takes an integer in [${min}, ${max}]`);
      return n;
    };
    try {
      if (name === "--duration") options.durationSeconds = int(1, 3600);
      else if (name === "--concurrency") options.concurrency = int(1, 64);
      else if (name === "--sentinels") options.sentinels = int(1, 100);
      else if (name === "--warmup") options.warmupSeconds = int(0, 3600);
      else if (name === "--client-tier") {
        const tier = value() as ClientTier;
        if (!TIERS.includes(tier)) throw new Error(`--client-tier takes one of ${TIERS.join(", ")}`);
        options.clientTier = tier;
      } else if (name === "--verbose") options.verbose = true;
      else throw new Error(`unknown option ${name}`);
    } catch (error) {
      return `${(error as Error).message}\nusage: npm run soak -- [--duration 540] [--concurrency 12] [--client-tier keep|strict|standard|generous|off] [--sentinels 6] [--warmup SECONDS] [--verbose]`;
    }
  }
  // Default: the single-use window, when the run outlasts it (then state has stopped growing by
  // design and any growth is a leak); half the run otherwise, with memory reported but not judged.
  if (options.warmupSeconds < 0) options.warmupSeconds = options.durationSeconds > STATE_WINDOW_SECONDS + 60 ? STATE_WINDOW_SECONDS : Math.floor(options.durationSeconds / 2);
  if (options.warmupSeconds >= options.durationSeconds) return "--warmup must be shorter than --duration";
  return options;
}

function printSummary(s: {
  tally: Tally;
  traffic: Traffic;
  runSeconds: number;
  runRequests: number;
  memory: ReturnType<RssSampler["verdict"]>;
  verification: { verified: number; acknowledged: number };
  jwks: ReturnType<typeof jwksFetchReport>;
  options: Options;
  warmup: number;
}): void {
  const { tally, memory } = s;
  console.log(`\n== soak summary (${s.options.durationSeconds} s requested, concurrency ${s.options.concurrency}) ==`);
  console.log("requests by kind and status:");
  const kinds = [...tally.byKind.keys()].sort();
  const width = Math.max(...kinds.map((k) => k.length));
  for (const kind of kinds) {
    const statuses = [...tally.byKind.get(kind)!].map(([status, n]) => `${status}×${n}`).join("  ");
    console.log(`  ${kind.padEnd(width)}  ${statuses}`);
  }
  const lat = tally.latencies;
  console.log(`throughput: ${s.runRequests} requests in ${s.runSeconds.toFixed(1)} s = ${(s.runRequests / s.runSeconds).toFixed(1)} req/s (latency p50 ${percentile(lat, 50)?.toFixed(1)} ms, p99 ${percentile(lat, 99)?.toFixed(1)} ms, max ${lat.reduce((a, b) => Math.max(a, b), 0).toFixed(0)} ms); ${tally.requests} with the final checks`);
  console.log(`wrong answers: ${tally.wrongCount}`);
  for (const w of tally.wrong) console.log(`  ✗ ${w.kind}: expected ${w.expected}; got ${w.got}`);
  console.log(`5xx on valid requests: ${tally.serverErrorsOnValid}; 5xx on hostile requests: ${tally.serverErrorsOnHostile}; 429: ${tally.tooManyRequests}; no answer: ${tally.noAnswer}`);
  const byChannel = (c: string) => s.traffic.revocations.filter((r) => r.channel === c).length;
  console.log(`revocations: ${s.verification.acknowledged} acknowledged (okta_event_hook ${byChannel("okta_event_hook")}, ssf ${byChannel("ssf")}), ${s.verification.verified} verified (spare ID-JAG refused, old token inactive, KV mirror entry)`);
  console.log(`subjects: ${s.traffic.subjects.length} soak subjects, ${s.traffic.sentinels.length} sentinels (targets of forged deliveries; still unrevoked)`);
  console.log(
    `soak IdP JWKS fetches by ema-edge: ${s.jwks.cold} at the cold start (within ${JWKS_COLD_START_MS / 1000} s of the first), ${s.jwks.later} later (bound ${s.jwks.bound}: one per ${JWKS_REFETCH_COOLDOWN_SECONDS} s cool-down)`,
  );
  const samples = memory.samples;
  const gcSamples = samples.filter((x) => x.gcRssMb !== undefined);
  const mb = (n: number | undefined) => (n === undefined ? "?" : n.toFixed(1));
  const signed = (n: number, unit: string) => `${n >= 0 ? "+" : ""}${n.toFixed(unit === "MB" ? 1 : 2)} ${unit}`;
  const growthNote = (g: Growth | undefined) =>
    g === undefined
      ? "n/a"
      : `first-third median ${g.firstMb.toFixed(1)} MB → last-third median ${g.lastMb.toFixed(1)} MB (${signed(g.growthMb, "MB")}, ${signed(g.growthPct, "%")}); ` +
        `${g.mbPer1kRequests === undefined ? "n/a" : signed(g.mbPer1kRequests, "MB")} per 1,000 requests`;
  console.log(
    `workerd RSS (pid ${memory.pid ?? "?"}, ${samples.length} samples, one every ${RSS_SAMPLE_EVERY_MS / 1000} s, each raw and then after a forced full GC of ema-edge's isolate; judged after ${s.warmup.toFixed(0)} s warm-up):`,
  );
  console.log(
    `  raw     (reported, NOT gated): start ${mb(samples[0]?.rssMb)} MB → end ${mb(samples.at(-1)?.rssMb)} MB, peak ${mb(Math.max(...samples.map((x) => x.rssMb)))} MB; ${growthNote(memory.raw)}`,
  );
  console.log(
    `  post-GC (GATED: fails above +${MAX_GC_RSS_GROWTH_MB} MB and +${MAX_GC_RSS_GROWTH_PCT} %): start ${mb(gcSamples[0]?.gcRssMb)} MB → end ${mb(gcSamples.at(-1)?.gcRssMb)} MB, peak ${mb(gcSamples.length ? Math.max(...gcSamples.map((x) => x.gcRssMb!)) : undefined)} MB; ${growthNote(memory.gated)}`,
  );
  if (memory.gcError !== undefined) console.log(`  forced GC error: ${memory.gcError}`);
  const judged = s.options.warmupSeconds >= STATE_WINDOW_SECONDS;
  console.log(`  memory verdict: ${!judged ? `not judged (the warm-up is shorter than the ${STATE_WINDOW_SECONDS} s single-use window)` : memory.failure === undefined ? "OK (post-GC growth within bounds)" : `FAIL — ${memory.failure}`}`);
  console.log(`  RSS samples (s since start: raw/post-GC MB): ${samples.map((x) => `${x.t.toFixed(0)}:${x.rssMb.toFixed(0)}/${x.gcRssMb?.toFixed(0) ?? "?"}`).join(" ")}`);
}
