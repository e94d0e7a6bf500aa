// `node scripts/run-ts.mjs local/soak-memory-probe.ts [--mixes e,d,c,a,b,f] [--requests 15000]
// [--concurrency 12] [--idle 75] [--seconds 40]`: a controlled measurement of the workerd RSS growth
// the soak sees. Starts the local stack (free ports, throwaway state) with the soak IdP trusted, then
// drives one request mix at a time, a fixed number of requests each, sampling workerd's RSS every
// second, and reports the growth per 1,000 requests, overall and in each mix's second half (flat in
// the second half = levelling off). Then samples an idle period (do idle objects get evicted?).
//   e  static metadata GETs (no KV read beyond the policy cache, no Durable Object)
//   d  token requests with a bad client secret: 401 before any Durable Object call
//   c  introspection of one token, again and again (one SubjectShard, read only)
//   a  exchanges for ONE subject, a fresh jti each (one SubjectShard; one used_once row per request)
//   b  exchanges for a new subject each request (like the soak's new subjects; every third has an
//      email, so its first exchange also writes the email index to KV)
//   f  SSF revocations, a new subject each (a SubjectShard write and a KV mirror write each)
import { DEMO_CLIENT, startLocalStack } from "./stack";
import { startSoakIdp, revokingSet, SOAK_IDP_ID } from "./soak-idp";
import { findWorkerd } from "./soak-memory";
import { connectIsolateGc } from "./inspector-gc";
import { trustSoakIdp } from "./soak";
import { BASIC, JWT_BEARER } from "./soak-traffic";
import { readFileSync } from "node:fs";

interface Sample {
  t: number;
  done: number;
  rss: number;
  anon: number;
  file: number;
}

function status(pid: number): { rss: number; anon: number; file: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(text)?.[1] ?? NaN) / 1024;
    return { rss: kb("VmRSS"), anon: kb("RssAnon"), file: kb("RssFile") + kb("RssShmem") };
  } catch {
    return undefined;
  }
}

const FORM = "application/x-www-form-urlencoded";
const BAD_BASIC = `Basic ${Buffer.from(`${DEMO_CLIENT.id}:not-the-secret`).toString("base64")}`;

export async function main(args: string[]): Promise<number> {
  const opt = { mixes: "e,d,c,a,b,f", requests: 15000, concurrency: 12, idle: 75, seconds: 40, gc: 0 };
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i]!.replace(/^--/, "") as keyof typeof opt;
    if (!(name in opt)) {
      console.error(`unknown option ${args[i]}`);
      return 2;
    }
    (opt as Record<string, unknown>)[name] = name === "mixes" ? args[i + 1] : Number(args[i + 1]);
  }
  const stack = await startLocalStack({ ports: { as: 0, idp: 0, mcp: 0 }, ...(opt.gc > 0 && { inspectorPort: opt.gc }) });
  const idp = await startSoakIdp({ audience: stack.urls.as, resource: stack.urls.resource, clientId: DEMO_CLIENT.id });
  try {
    await trustSoakIdp(stack.mf, idp, stack.urls.resource, "off");
    const pid = findWorkerd()[0];
    if (pid === undefined) throw new Error("no workerd child");
    const as = stack.urls.as;
    const post = (url: string, body: Record<string, string>, auth = BASIC, contentType = FORM) =>
      fetch(url, { method: "POST", headers: { "content-type": contentType, authorization: auth }, body: new URLSearchParams(body).toString() });
    let serial = 0;
    const run = `${Date.now().toString(36)}`;
    const newSub = () => `00uprobe${run}${String(++serial).padStart(9, "0")}`;
    const exchange = async (sub: string, email?: string) => {
      const { jag } = await idp.mintIdJag({ sub, alg: "ES256", ...(email !== undefined && { claims: { email } }) });
      return post(`${as}/oauth2/token`, { grant_type: JWT_BEARER, assertion: jag });
    };
    const oneSub = newSub();
    // Wait for the policy cache (up to 15 s per isolate) to see the soak IdP.
    for (let i = 0; ; i++) {
      const r = await exchange(oneSub);
      if (r.status === 200) break;
      await r.arrayBuffer();
      if (i > 40) throw new Error(`exchange never succeeded: ${r.status}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const token = ((await (await exchange(oneSub)).json()) as { access_token: string }).access_token;
    const staleJag = (await idp.mintIdJag({ sub: oneSub, alg: "ES256" })).jag;

    const mixes: Record<string, { what: string; one: () => Promise<Response> }> = {
      e: { what: "static metadata GET", one: () => fetch(`${as}/.well-known/oauth-authorization-server`) },
      d: { what: "bad client secret → 401 (no DO)", one: () => post(`${as}/oauth2/token`, { grant_type: JWT_BEARER, assertion: staleJag }, BAD_BASIC) },
      c: { what: "introspect one token (1 DO, read)", one: () => post(`${as}/oauth2/introspect`, { token, token_type_hint: "access_token" }) },
      a: { what: "exchange, ONE subject, fresh jti", one: () => exchange(oneSub) },
      b: {
        what: "exchange, new subject each (1/3 email)",
        one: () => {
          const sub = newSub();
          return exchange(sub, serial % 3 === 0 ? `${sub}@probe.example` : undefined);
        },
      },
      f: {
        what: "SSF revocation, new subject each",
        one: async () =>
          fetch(`${as}/ssf/${SOAK_IDP_ID}`, {
            method: "POST",
            headers: { "content-type": "application/secevent+jwt", accept: "application/json" },
            body: await idp.signSet(revokingSet(idp.issuer, as, newSub(), Math.floor(Date.now() / 1000))),
          }),
      },
    };

    // --gc PORT: force a full GC of ema-edge's isolate through the inspector every second, so what
    // remains is what is retained, not garbage V8 has not collected yet.
    let forceGc = async () => {};
    if (opt.gc > 0) {
      const gc = await connectIsolateGc(opt.gc, { wake: async () => (await fetch(`${as}/.well-known/oauth-authorization-server`)).arrayBuffer() });
      forceGc = () => gc.collect();
      const gcTimer = setInterval(() => void forceGc().catch(() => {}), 1000);
      gcTimer.unref();
    }
    const t0 = performance.now();
    const all: Sample[] = [];
    const sampleNow = (done: number) => {
      const s = status(pid);
      if (s) all.push({ t: (performance.now() - t0) / 1000, done, ...s });
      return all.at(-1)!;
    };
    const rows: string[] = [];
    console.log(`workerd pid ${pid}; baseline RSS ${sampleNow(0).rss.toFixed(1)} MB; ${opt.requests} requests per mix (≤ ${opt.seconds} s), concurrency ${opt.concurrency}`);
    for (const key of opt.mixes.split(",")) {
      const mix = mixes[key];
      if (!mix) throw new Error(`no mix ${key}`);
      let done = 0;
      let started = 0;
      const statuses = new Map<number, number>();
      const begin = performance.now();
      const deadline = begin + opt.seconds * 1000;
      const samples: Sample[] = [sampleNow(0)];
      const timer = setInterval(() => samples.push(sampleNow(done)), 1000);
      await Promise.all(
        Array.from({ length: opt.concurrency }, async () => {
          while (started < opt.requests && performance.now() < deadline) {
            started++;
            const r = await mix.one();
            await r.arrayBuffer();
            statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
            done++;
          }
        }),
      );
      clearInterval(timer);
      samples.push(sampleNow(done));
      const secs = (performance.now() - begin) / 1000;
      const first = samples[0]!;
      const last = samples.at(-1)!;
      const mid = samples.reduce((best, s) => (Math.abs(s.done - done / 2) < Math.abs(best.done - done / 2) ? s : best));
      const per1k = (a: Sample, b: Sample, f: keyof Sample = "rss") => (b.done - a.done > 0 ? (((b[f] as number) - (a[f] as number)) / (b.done - a.done)) * 1000 : NaN);
      const row =
        `${key}  ${mix.what.padEnd(40)} ${String(done).padStart(6)} req ${secs.toFixed(1).padStart(5)} s ${(done / secs).toFixed(0).padStart(4)}/s  ` +
        `RSS ${first.rss.toFixed(1)} → ${last.rss.toFixed(1)} MB  ${per1k(first, last).toFixed(2)} MB/1k req (1st half ${per1k(first, mid).toFixed(2)}, 2nd half ${per1k(mid, last).toFixed(2)}; anon ${per1k(first, last, "anon").toFixed(2)}, file ${per1k(first, last, "file").toFixed(2)})  ` +
        `status ${[...statuses].map(([s, n]) => `${s}×${n}`).join(" ")}`;
      rows.push(row);
      console.log(row);
      console.log(`   samples (s: MB): ${samples.map((s) => `${(s.t).toFixed(0)}:${s.rss.toFixed(0)}`).join(" ")}`);
    }
    if (opt.idle > 0) {
      const idleStart = sampleNow(0);
      const idle: Sample[] = [idleStart];
      for (let s = 0; s < opt.idle; s += 5) {
        await new Promise((resolve) => setTimeout(resolve, 5000));
        idle.push(sampleNow(0));
      }
      const row = `idle ${opt.idle} s after traffic: RSS ${idleStart.rss.toFixed(1)} → ${idle.at(-1)!.rss.toFixed(1)} MB (anon ${idleStart.anon.toFixed(1)} → ${idle.at(-1)!.anon.toFixed(1)}); samples ${idle.map((s) => `${s.t.toFixed(0)}:${s.rss.toFixed(0)}`).join(" ")}`;
      rows.push(row);
      console.log(row);
    }
    console.log("\n== summary ==\n" + rows.join("\n"));
    return 0;
  } finally {
    await idp.close();
    await stack.stop();
  }
}
