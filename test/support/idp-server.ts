// vitest globalSetup (runs in Node): a real HTTP host for test IdPs. Each test file registers its
// own issuer (public keys it generated inside workerd), so files never share state. The host serves
// the JWKS and discovery documents over loopback exactly where the Worker fetches them, counts
// fetches so "no fetch for an untrusted issuer" is testable, and can fail on purpose.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { generateKeyPair, exportJWK } from "jose";
import type { TestProject } from "vitest/node";

type Mode = "ok" | "status_500" | "hang" | "garbage" | "oversized" | "slow" | "redirect" | "trickle";

interface HostedIssuer {
  jwks: unknown;
  mode: Mode;
  delayMs: number;
  cacheControl: string | null;
  /** "redirect" mode: where the JWKS request is sent (302). */
  location?: string;
  /** When set, served verbatim as both metadata documents instead of the generated one. */
  metadata?: unknown;
  jwksFetches: number;
  metadataFetches: number;
}

const issuers = new Map<string, HostedIssuer>();
let nextId = 1;

async function readJson(req: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? JSON.parse(text) : {};
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(body);
}

async function handle(req: IncomingMessage, res: ServerResponse, origin: string) {
  const url = new URL(req.url ?? "/", origin);
  const parts = url.pathname.split("/").filter(Boolean);

  if (req.method === "POST" && url.pathname === "/control/issuers") {
    const body = await readJson(req);
    const id = `idp${nextId++}`;
    issuers.set(id, { jwks: body.jwks ?? { keys: [] }, mode: "ok", delayMs: 0, cacheControl: body.cacheControl ?? null, jwksFetches: 0, metadataFetches: 0 });
    const issuer = `${origin}/${id}`;
    return send(res, 201, JSON.stringify({ id, issuer, jwks_uri: `${issuer}/jwks` }));
  }
  if (parts[0] === "control" && parts[1] === "issuers" && parts[2]) {
    const hosted = issuers.get(parts[2]);
    if (!hosted) return send(res, 404, "{}");
    if (req.method === "PATCH") {
      Object.assign(hosted, await readJson(req));
      return send(res, 200, "{}");
    }
    return send(res, 200, JSON.stringify({ jwksFetches: hosted.jwksFetches, metadataFetches: hosted.metadataFetches }));
  }

  // RFC 8414 §3.1 path insertion: /.well-known/{name}/{id} is the metadata of issuer {origin}/{id}.
  const inserted = parts[0] === ".well-known" && parts.length === 3;
  const id = inserted ? parts[2] : parts[0];
  const hosted = id ? issuers.get(id) : undefined;
  if (!hosted) return send(res, 404, '{"error":"not_found"}');
  const rest = inserted ? `/.well-known/${parts[1]}` : "/" + parts.slice(1).join("/");
  if (rest === "/.well-known/openid-configuration" || rest === "/.well-known/oauth-authorization-server") {
    hosted.metadataFetches++;
    const issuer = `${origin}/${id}`;
    const doc = hosted.metadata ?? { issuer, jwks_uri: `${issuer}/jwks`, token_endpoint: `${issuer}/token` };
    return send(res, 200, JSON.stringify(doc));
  }
  if (rest !== "/jwks") return send(res, 404, '{"error":"not_found"}');

  hosted.jwksFetches++;
  const headers: Record<string, string> = hosted.cacheControl ? { "cache-control": hosted.cacheControl } : {};
  switch (hosted.mode) {
    case "status_500":
      return send(res, 500, '{"error":"boom"}');
    case "hang":
      return; // never answers: the Worker's timeout must fire
    case "garbage":
      return send(res, 200, "<html>not json", headers);
    case "oversized":
      return send(res, 200, JSON.stringify({ keys: [], pad: "x".repeat(256 * 1024) }), headers);
    case "redirect": // with the key set as body, so only the status says "not here"
      return send(res, 302, JSON.stringify(hosted.jwks), { location: hosted.location ?? "/" });
    case "trickle": // headers and the start of the body, then nothing: the deadline must cover the body
      res.writeHead(200, { "content-type": "application/json", ...headers });
      res.write('{"keys":[');
      return;
    case "slow":
      await new Promise((r) => setTimeout(r, hosted.delayMs));
      return send(res, 200, JSON.stringify(hosted.jwks), headers);
    default:
      return send(res, 200, JSON.stringify(hosted.jwks), headers);
  }
}

/** An ES256 access-token signing key set, as the AT_SIGNING_KEYS secret holds it. */
async function signingKeySecret(): Promise<string> {
  const keys = [];
  for (const kid of ["test-current", "test-next"]) {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    keys.push({ ...(await exportJWK(privateKey)), kid, alg: "ES256" });
  }
  return JSON.stringify({ current: "test-current", keys });
}

export default async function setup(project: TestProject) {
  const server = createServer((req, res) => {
    handle(req, res, origin).catch(() => send(res, 500, "{}"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const origin = `http://127.0.0.1:${port}`;
  project.provide("idpHost", origin);
  project.provide("signingKeys", await signingKeySecret());
  return async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
}
