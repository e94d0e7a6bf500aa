// vitest globalSetup for the dev-idp project (runs in Node): a loopback HTTP server that stands in
// for ema-edge and records what the dev IdP pushes. Each test opens its own sink, whose base URL it
// passes as EMA_EDGE_ISSUER, so files and tests never see each other's deliveries. A sink answers
// like ema-edge (204 to a hook, 202 to a SET), or with a chosen status, or never ("hang").
// Plain JavaScript: the project's tsconfig has no Node types for test files (cf. test/support/idp-server.ts).
import { createServer } from "node:http";

/** @typedef {{ method: string, path: string, headers: Record<string, string | string[] | undefined>, body: string }} Recorded */
/** @type {Map<string, { mode: string, status: number, requests: Recorded[] }>} */
const sinks = new Map();
let nextId = 1;

function send(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(body);
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

async function handle(req, res, origin) {
  const url = new URL(req.url ?? "/", origin);
  const parts = url.pathname.split("/").filter(Boolean);
  if (req.method === "POST" && url.pathname === "/control/sinks") {
    const options = JSON.parse((await readBody(req)) || "{}");
    const id = `sink${nextId++}`;
    sinks.set(id, { mode: options.mode ?? "ok", status: options.status ?? 500, requests: [] });
    return send(res, 201, JSON.stringify({ id, base: `${origin}/${id}` }));
  }
  if (req.method === "GET" && parts[0] === "control" && parts[1] === "sinks" && parts[2]) {
    const sink = sinks.get(parts[2]);
    return sink ? send(res, 200, JSON.stringify(sink.requests)) : send(res, 404, "{}");
  }
  const sink = parts[0] ? sinks.get(parts[0]) : undefined;
  if (!sink) return send(res, 404, '{"error":"no such sink"}');
  const body = await readBody(req);
  sink.requests.push({ method: req.method ?? "", path: "/" + parts.slice(1).join("/"), headers: req.headers, body });
  if (sink.mode === "hang") return; // never answers: the dev IdP's timeout must fire
  if (sink.mode === "status") return send(res, sink.status, '{"error":"sink told to fail"}');
  // As ema-edge acknowledges: Okta wants 200/204 with an empty body, RFC 8935 wants 202.
  res.writeHead(parts[1] === "ssf" ? 202 : 204);
  res.end();
}

export default async function setup(project) {
  const server = createServer((req, res) => {
    handle(req, res, origin).catch(() => send(res, 500, "{}"));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const origin = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  project.provide("devIdpRecorder", origin);
  return async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
}
