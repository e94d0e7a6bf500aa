// Samples the resident memory of the workerd process Miniflare spawned for the stack (a child of
// this Node process, found through /proc), and judges growth: the median of the first third of the
// post-warm-up samples against the median of the last third. Linux only (/proc).
//
// Each sample reads RSS twice: raw, then again right after a forced full GC of ema-edge's isolate
// (local/inspector-gc.ts). Raw RSS climbs ~3 KB per request even for a hello-world Worker, because
// workerd frees per-request native objects only when V8 runs a full GC, which it rarely does on a
// small heap; raw growth measures GC timing. The gate is on the post-GC samples, which measure what
// is retained; raw RSS is reported only.
import { readdirSync, readFileSync } from "node:fs";
import type { IsolateGc } from "./inspector-gc";
import { median } from "./soak-check";

export interface RssSample {
  /** Seconds since the soak began. */
  t: number;
  /** Requests answered when the sample was taken. */
  requests: number;
  /** RSS as found, before the forced GC. */
  rssMb: number;
  /** RSS right after a forced full GC of ema-edge's isolate; undefined when the GC failed. */
  gcRssMb?: number;
}

export interface Growth {
  firstMb: number;
  lastMb: number;
  growthMb: number;
  growthPct: number;
  /** Least-squares slope of RSS against requests answered, after the warm-up, in MB per 1,000. */
  mbPer1kRequests: number | undefined;
}

export interface MemoryVerdict {
  pid: number | undefined;
  samples: RssSample[];
  /** Post-GC growth after the warm-up: what is gated. */
  gated?: Growth;
  /** Raw growth after the warm-up: reported, not gated. */
  raw?: Growth;
  /** The first forced-GC error, if any. */
  gcError?: string;
  /** Why growth was judged too large (or could not be judged), or undefined when it was not. */
  failure?: string;
}

/** Post-GC gate; fails only when both bounds are passed: small absolute growth on a small heap is noise. */
export const MAX_GC_RSS_GROWTH_PCT = 10;
export const MAX_GC_RSS_GROWTH_MB = 20;

/** The workerd processes below `root` (children, or grandchildren if Miniflare ever wraps it). */
export function findWorkerd(root = process.pid): number[] {
  const parents = new Map<number, number[]>();
  const names = new Map<number, string>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid …: comm may hold spaces or parentheses, so split after the last ")".
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      names.set(Number(entry), comm);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended between readdir and read
    }
  }
  const found: number[] = [];
  const walk = (pid: number, depth: number) => {
    for (const child of parents.get(pid) ?? []) {
      if (names.get(child) === "workerd") found.push(child);
      else if (depth < 2) walk(child, depth + 1);
    }
  };
  walk(root, 0);
  return found;
}

export function rssMb(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

export class RssSampler {
  readonly samples: RssSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private pending: Promise<void> = Promise.resolve();
  private gcError: string | undefined;

  constructor(
    readonly pid: number | undefined,
    private readonly startedAt: number,
    private readonly gc: IsolateGc | undefined,
    private readonly requests: () => number,
  ) {}

  /** Samples now and then every `everyMs` after the previous sample ended (samples never overlap). */
  start(everyMs: number): void {
    const loop = () => {
      this.pending = this.sample().then(() => {
        if (!this.stopped) this.timer = setTimeout(loop, everyMs).unref();
      });
    };
    loop();
  }

  /** One sample: raw RSS, then a forced full GC of ema-edge's isolate, then RSS again. */
  async sample(): Promise<void> {
    if (this.pid === undefined) return;
    const requests = this.requests();
    const t = (performance.now() - this.startedAt) / 1000;
    const raw = rssMb(this.pid);
    if (raw === undefined) return;
    let gcRssMb: number | undefined;
    if (this.gc) {
      try {
        await this.gc.collect();
        gcRssMb = rssMb(this.pid);
      } catch (error) {
        this.gcError ??= error instanceof Error ? error.message : String(error);
      }
    } else this.gcError ??= "no inspector connection to force a GC";
    this.samples.push({ t, requests, rssMb: raw, ...(gcRssMb !== undefined && { gcRssMb }) });
  }

  /** Stops sampling, then takes a final sample. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.pending;
    await this.sample();
  }

  /** Growth after `warmupSeconds`: first-third median against last-third median; gated on post-GC RSS. */
  verdict(warmupSeconds: number): MemoryVerdict {
    const all = this.samples;
    const steady = all.filter((s) => s.t >= warmupSeconds);
    const base: MemoryVerdict = { pid: this.pid, samples: all, ...(this.gcError !== undefined && { gcError: this.gcError }) };
    if (this.pid === undefined) return { ...base, failure: "no workerd child process found to sample" };
    if (steady.length < 6) return { ...base, failure: `only ${steady.length} samples after the ${warmupSeconds.toFixed(0)} s warm-up` };
    const raw = growth(steady.map((s) => [s.requests, s.rssMb]));
    const withGc = steady.filter((s) => s.gcRssMb !== undefined);
    if (withGc.length < steady.length) return { ...base, raw, failure: `the forced GC failed for ${steady.length - withGc.length} of ${steady.length} samples after the warm-up (${this.gcError}); post-GC growth cannot be judged` };
    const gated = growth(withGc.map((s) => [s.requests, s.gcRssMb!]));
    const failure =
      gated.growthPct > MAX_GC_RSS_GROWTH_PCT && gated.growthMb > MAX_GC_RSS_GROWTH_MB
        ? `workerd post-GC RSS grew ${gated.growthMb.toFixed(1)} MB (${gated.growthPct.toFixed(1)} %), over both ${MAX_GC_RSS_GROWTH_MB} MB and ${MAX_GC_RSS_GROWTH_PCT} %`
        : undefined;
    return { ...base, gated, raw, ...(failure !== undefined && { failure }) };
  }
}

/** `points` are [requests answered, MB] after the warm-up, in time order. */
function growth(points: [number, number][]): Growth {
  const third = Math.floor(points.length / 3);
  const firstMb = median(points.slice(0, third).map(([, mb]) => mb))!;
  const lastMb = median(points.slice(-third).map(([, mb]) => mb))!;
  const growthMb = lastMb - firstMb;
  return { firstMb, lastMb, growthMb, growthPct: (growthMb / firstMb) * 100, mbPer1kRequests: slopePer1k(points) };
}

function slopePer1k(points: [number, number][]): number | undefined {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  if (sxx === 0) return undefined;
  const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  return (sxy / sxx) * 1000;
}
