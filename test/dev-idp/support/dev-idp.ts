// Calls the dev IdP Worker's module directly (its default export, inside workerd, with the real
// KV namespace of its wrangler.toml) so a test can change its env: EMA_EDGE_ISSUER pointed at a
// recorder sink, IDP_SIGNING_KEY set to a key the test holds, a non-loopback ISSUER.
import { env } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import { inject } from "vitest";
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from "jose";
import worker from "../../../workers/dev-idp/index";
import type { Env } from "../../../workers/dev-idp/env";

/** The Worker's env as its wrangler.toml defines it (test/support/env.d.ts types `env` as the authorization server's). */
export const baseEnv = env as unknown as Env;
export const ISSUER = baseEnv.ISSUER;
export const EMA_EDGE = baseEnv.EMA_EDGE_ISSUER;
export const CLIENT_ID = "demo-client";
export const CLIENT_SECRET = "demo-secret";
export const RESOURCE = "http://localhost:8789/mcp";
export const TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
export const ID_JAG_TYPE = "urn:ietf:params:oauth:token-type:id-jag";
export const ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token";

export const nowSeconds = () => Math.floor(Date.now() / 1000);

export function call(path: string, init: RequestInit = {}, overrides: Partial<Env> = {}): Promise<Response> {
  return worker.fetch(new Request(`${ISSUER}${path}`, init), { ...baseEnv, ...overrides }, createExecutionContext());
}

export const form = (params: Record<string, string>, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
  body: new URLSearchParams(params).toString(),
});

export const basic = (id: string, secret: string) => `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`;

export async function login(username: string, overrides: Partial<Env> = {}, clientId?: string): Promise<string> {
  const res = await call("/dev/login", form({ username, ...(clientId !== undefined && { client_id: clientId }) }), overrides);
  if (res.status !== 200) throw new Error(`login ${username} → ${res.status} ${await res.text()}`);
  return (await res.json<{ id_token: string }>()).id_token;
}

/** The exchange's parameters as the MCP SDK sends them (client_secret_post), with `changes` applied (undefined deletes). */
export function exchangeParams(subjectToken: string, changes: Record<string, string | undefined> = {}): Record<string, string> {
  const params: Record<string, string | undefined> = {
    grant_type: TOKEN_EXCHANGE,
    requested_token_type: ID_JAG_TYPE,
    audience: EMA_EDGE,
    resource: RESOURCE,
    subject_token: subjectToken,
    subject_token_type: ID_TOKEN_TYPE,
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    ...changes,
  };
  return Object.fromEntries(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined));
}

export const exchange = (params: Record<string, string>, headers: Record<string, string> = {}, overrides: Partial<Env> = {}) =>
  call("/oauth2/token", form(params, headers), overrides);

/** The IdP's key set as a verifier, fetched from its JWKS endpoint. */
export async function idpKeys(overrides: Partial<Env> = {}) {
  const res = await call("/.well-known/jwks.json", {}, overrides);
  return createLocalJWKSet(await res.json());
}

/** A key the test holds, given to the Worker as IDP_SIGNING_KEY, so tests can sign what only the IdP should. */
export interface HeldKey {
  kid: string;
  privateKey: CryptoKey;
  env: Partial<Env>;
  sign(claims: JWTPayload, header?: Record<string, unknown>): Promise<string>;
}

export async function holdKey(kid = `held-${crypto.randomUUID().slice(0, 8)}`): Promise<HeldKey> {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid, alg: "RS256" };
  return {
    kid,
    privateKey,
    env: { IDP_SIGNING_KEY: JSON.stringify(jwk) },
    sign: (claims, header = {}) => new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid, typ: "JWT", ...header }).sign(privateKey),
  };
}

/** ID token claims as /dev/login mints them for alice, valid now. */
export const aliceIdTokenClaims = (now = nowSeconds()): JWTPayload => ({
  iss: ISSUER,
  sub: "00ualiceDEVIDP000001",
  aud: CLIENT_ID,
  iat: now,
  exp: now + 3600,
  auth_time: now,
  amr: ["pwd", "mfa"],
  email: "alice@example.com",
  groups: ["engineering"],
});

export interface Sink {
  base: string;
  requests(): Promise<{ method: string; path: string; headers: Record<string, string>; body: string }[]>;
}

/** A fresh recorder sink; its base URL is what the test passes as EMA_EDGE_ISSUER. */
export async function openSink(options: { mode?: "ok" | "status" | "hang"; status?: number } = {}): Promise<Sink> {
  const origin = inject("devIdpRecorder");
  const res = await fetch(`${origin}/control/sinks`, { method: "POST", body: JSON.stringify(options) });
  const { id, base } = await res.json<{ id: string; base: string }>();
  return { base, requests: async () => (await fetch(`${origin}/control/sinks/${id}`)).json() };
}

/** Waits until the clock is in a later second than `epochSeconds` (session clears compare seconds, ≤). */
export async function nextSecondAfter(epochSeconds: number): Promise<void> {
  while (nowSeconds() <= epochSeconds) await new Promise((r) => setTimeout(r, 50));
}
