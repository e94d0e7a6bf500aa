// Samples the resident memory of the workerd process Miniflare spawned for the stack (a child of
// this Node process, found through /proc), and judges growth: the median of the first third of the
// post-warm-up samples against the median of the last third. Linux only (/proc).
import { readdirSync, readFileSync } from "node:fs";
import { median } from "./soak-check";

export interface RssSample {
  /** Seconds since the soak began. */
  t: number;
  rssMb: number;
}

export interface MemoryVerdict {
  pid: number | undefined;
  samples: RssSample[];
  firstMb?: number;
  lastMb?: number;
  growthMb?: number;
  growthPct?: number;
  /** Why growth was judged too large, or undefined when it was not. */
  failure?: string;
}

/** Fails only when both bounds are passed: small absolute growth on a small heap is noise. */
export const MAX_RSS_GROWTH_PCT = 20;
export const MAX_RSS_GROWTH_MB = 30;

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

  constructor(
    readonly pid: number | undefined,
    private readonly startedAt: number,
  ) {}

  start(everyMs: number): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  sample(): void {
    if (this.pid === undefined) return;
    const mb = rssMb(this.pid);
    if (mb !== undefined) this.samples.push({ t: (performance.now() - this.startedAt) / 1000, rssMb: mb });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Growth after `warmupSeconds`: first-third median against last-third median. */
  verdict(warmupSeconds: number): MemoryVerdict {
    const all = this.samples;
    const steady = all.filter((s) => s.t >= warmupSeconds);
    const base: MemoryVerdict = { pid: this.pid, samples: all };
    if (this.pid === undefined) return { ...base, failure: "no workerd child process found to sample" };
    if (steady.length < 6) return { ...base, failure: `only ${steady.length} samples after the ${warmupSeconds.toFixed(0)} s warm-up` };
    const third = Math.floor(steady.length / 3);
    const firstMb = median(steady.slice(0, third).map((s) => s.rssMb))!;
    const lastMb = median(steady.slice(-third).map((s) => s.rssMb))!;
    const growthMb = lastMb - firstMb;
    const growthPct = (growthMb / firstMb) * 100;
    const failure =
      growthPct > MAX_RSS_GROWTH_PCT && growthMb > MAX_RSS_GROWTH_MB
        ? `workerd RSS grew ${growthMb.toFixed(1)} MB (${growthPct.toFixed(1)} %), over both ${MAX_RSS_GROWTH_MB} MB and ${MAX_RSS_GROWTH_PCT} %`
        : undefined;
    return { ...base, firstMb, lastMb, growthMb, growthPct, ...(failure !== undefined && { failure }) };
  }
}
