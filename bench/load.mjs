// A bounded, closed-loop HTTP load generator for loopback targets: `concurrency` requests in flight,
// each starting the next as it completes, until the time budget or the request budget runs out.
// Requests of the warm-up window are sent but not measured. Node's http module only, so
// `npm run bench` needs nothing outside package.json.
import http from "node:http";

/**
 * @param {object} o
 * @param {string} o.url            loopback URL (http://127.0.0.1:PORT/path)
 * @param {(i: number) => {headers?: Record<string,string>, body?: string}} o.request  the i-th request
 * @param {number} o.concurrency
 * @param {number} o.durationMs     measured window
 * @param {number} o.warmupMs       unmeasured window before it
 * @param {number} o.maxRequests    hard cap on requests sent (e.g. the number of pre-minted assertions)
 * @param {number} [o.expectStatus] status that counts as success (default 200)
 */
export async function runLoad(o) {
  const url = new URL(o.url);
  if (!["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) throw new Error(`refusing non-loopback target ${o.url}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency, maxFreeSockets: o.concurrency });
  const expect = o.expectStatus ?? 200;
  const start = performance.now();
  const measureFrom = start + o.warmupMs;
  const deadline = measureFrom + o.durationMs;
  const latencies = [];
  const statuses = {};
  let sent = 0;
  let measuredOk = 0;
  let measuredErrors = 0;
  let firstError;
  let lastEnd = measureFrom;

  const one = (i) =>
    new Promise((resolve) => {
      const { headers = {}, body } = o.request(i);
      const t0 = performance.now();
      const req = http.request(
        { host: url.hostname, port: url.port, path: url.pathname + url.search, method: body === undefined ? "GET" : "POST", agent, headers: body === undefined ? headers : { ...headers, "content-length": Buffer.byteLength(body) } },
        (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => {
            const t1 = performance.now();
            statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
            if (t0 >= measureFrom && t1 <= deadline) {
              if (res.statusCode === expect) {
                measuredOk++;
                latencies.push(t1 - t0);
              } else {
                measuredErrors++;
                firstError ??= `${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 300)}`;
              }
              lastEnd = t1;
            } else if (res.statusCode !== expect) {
              firstError ??= `${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 300)}`;
            }
            resolve();
          });
        },
      );
      req.on("error", (e) => {
        measuredErrors++;
        firstError ??= String(e);
        resolve();
      });
      if (body !== undefined) req.write(body);
      req.end();
    });

  const worker = async () => {
    while (performance.now() < deadline && sent < o.maxRequests) await one(sent++);
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  agent.destroy();
  const windowMs = Math.max(1, Math.min(deadline, Math.max(lastEnd, measureFrom)) - measureFrom);
  latencies.sort((a, b) => a - b);
  const q = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : NaN);
  return {
    requestsSent: sent,
    exhausted: sent >= o.maxRequests,
    measured: measuredOk,
    errors: measuredErrors,
    firstError,
    statuses,
    windowMs: Math.round(windowMs),
    rps: (measuredOk / windowMs) * 1000,
    p50: q(0.5),
    p90: q(0.9),
    p99: q(0.99),
    max: latencies.at(-1) ?? NaN,
  };
}
