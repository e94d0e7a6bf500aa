// Test helpers for the demo MCP server, running in workerd: mint RFC 9068 access tokens with the
// stand-in ema-edge's key (as-jwks-host.mjs), send requests to the Worker under test, build MCP
// JSON-RPC bodies, and write the revocation mirror the way ema-edge does.
import { env, exports } from "cloudflare:workers";
import { generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";
import { expect, inject } from "vitest";
import { mirrorTtl, subjectMirrorKey, subjectMirrorUntil, tokenMirrorKey, type SubjectRevocationRecord } from "../../../workers/lib/revocation-mirror";
import type { Env } from "../../../workers/demo-mcp-server/env";

/** The Worker's bindings (test/support/env.d.ts types `env` as the authorization server's). */
export const demoEnv = env as unknown as Env;
export const RESOURCE = demoEnv.RESOURCE;
export const ISSUER = inject("demoAsIssuer");
export const METADATA_URL = new URL("/.well-known/oauth-protected-resource/mcp", RESOURCE).href;
export const IDP = "https://idp.example.test";

const signingJwk = JSON.parse(inject("demoAsSigningKey")) as JWK & { kid: string };
let signingKey: CryptoKey | undefined;

export interface MintOptions {
  /** Claims to add or replace; a value of `undefined` removes the claim. */
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
  /** Sign with this key instead of the published one. */
  key?: CryptoKey;
  now?: number;
}

/** An access token as ema-edge mints it (tokens/access-token.ts), changed by `options`. */
export async function mintToken(scope: string, options: MintOptions = {}): Promise<string> {
  signingKey ??= (await importJWK(signingJwk, "ES256")) as CryptoKey;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const claims: JWTPayload = {
    iss: ISSUER,
    aud: RESOURCE,
    sub: "user-alice",
    client_id: "client-demo",
    scope,
    jti: crypto.randomUUID(),
    iat: now,
    exp: now + 300,
    idp: IDP,
    ...options.claims,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", kid: signingJwk.kid, typ: "at+jwt", ...options.header } as { alg: string })
    .sign(options.key ?? signingKey);
}

/** A fresh ES256 key the stand-in AS does not publish. */
export const foreignKey = async (): Promise<CryptoKey> => (await generateKeyPair("ES256")).privateKey;

/**
 * Sends a request to the Worker under test as an HTTP client would: with a Host header from the
 * URL, which a Request handed straight to the Worker lacks (and the host guard requires).
 */
export function send(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const request = new Request(input, init);
  if (!request.headers.has("host")) request.headers.set("host", new URL(request.url).host);
  return exports.default.fetch(request);
}

let nextId = 1;
export const rpc = (method: string, params: Record<string, unknown> = {}) => ({ jsonrpc: "2.0", id: nextId++, method, params });
export const callTool = (name: string, args: Record<string, unknown> = {}) => rpc("tools/call", { name, arguments: args });

/** A 2025-era (stateless legacy) MCP POST, as the SDK's client sends it after initialize. */
export function postMcp(body: unknown, token?: string, headers: Record<string, string> = {}): Promise<Response> {
  return send(RESOURCE, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
      "MCP-Protocol-Version": "2025-06-18",
      ...(token !== undefined && { Authorization: `Bearer ${token}` }),
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** The JSON-RPC message of a response, whether sent as JSON or as one SSE event. */
export async function rpcResult(res: Response): Promise<any> {
  const text = await res.text();
  if (!(res.headers.get("content-type") ?? "").includes("text/event-stream")) return JSON.parse(text);
  const data = text.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim());
  return JSON.parse(data.at(-1)!);
}

/** Writes the subject revocation mirror entry ema-edge writes (authorization-server/revocation/apply.ts). */
export async function revokeSubjectInMirror(sub: string, revokedBefore: number): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  const record: SubjectRevocationRecord = { iss: IDP, sub, revoked_before: revokedBefore, channel: "test", event_type: "user.deactivated", updated_at: now };
  await demoEnv.CONFIG.put(await subjectMirrorKey({ iss: IDP, sub }), JSON.stringify(record), { expirationTtl: mirrorTtl(subjectMirrorUntil(revokedBefore), now) });
}

/** Writes the per-token deny entry ema-edge writes on RFC 7009 revocation. */
export async function revokeTokenInMirror(jti: string, exp: number): Promise<void> {
  await demoEnv.CONFIG.put(await tokenMirrorKey(jti), "1", { expirationTtl: mirrorTtl(exp + 60, Math.floor(Date.now() / 1000)) });
}

/** The parameters of a `WWW-Authenticate: Bearer …` challenge. */
export function challengeOf(res: Response): Record<string, string> {
  const header = res.headers.get("www-authenticate") ?? "";
  expect(header.startsWith("Bearer ")).toBe(true);
  return Object.fromEntries([...header.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
}
