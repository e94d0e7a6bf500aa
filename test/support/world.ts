// A small deployment for end-to-end token tests: a real test IdP (or two), policy:v1 and client
// records written to the real KV binding, and helpers that build ID-JAGs and call the Worker.
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import type { JWTPayload } from "jose";
import type { ClientRecord, PolicyDoc, PolicyRule, TrustedIssuer } from "../../workers/lib/kv-records";
import { hashClientSecret } from "../../workers/authorization-server/client/secret";
import { forgetPolicyForTests } from "../../workers/authorization-server/config/policy-store";
import { forgetClientsForTests } from "../../workers/authorization-server/config/client-store";
import { createTestIdp, makeKey, type TestIdp, type TestKey } from "./test-idp";

export const ISSUER = "https://as.example.test";
export const TOKEN_URL = `${ISSUER}/oauth2/token`;
export const RESOURCE = "https://mcp.example.test/mcp";
export const OTHER_RESOURCE = "https://other-mcp.example.test/mcp";
export const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
export const CLIENT_ID = "client-basic";
export const CLIENT_SECRET = "s3cret-for-tests-only-0123456789abcdef";

export interface World {
  idp: TestIdp;
  otherIdp: TestIdp;
  policy: PolicyDoc;
  clientJwtKey: TestKey;
  /** Valid ID-JAG claims for CLIENT_ID at RESOURCE, issued now; `overrides` replace or (undefined) delete. */
  claims(overrides?: Record<string, unknown>): JWTPayload;
  /** A signed ID-JAG from `idp` (or `from`). */
  assertion(overrides?: Record<string, unknown>, options?: Parameters<TestIdp["sign"]>[1] & { from?: TestIdp }): Promise<string>;
  /** POSTs a token request authenticated with HTTP Basic as CLIENT_ID (unless `auth: null`). */
  exchange(params: Record<string, string | string[]>, options?: { auth?: string | null; headers?: Record<string, string> }): Promise<Response>;
  writePolicy(doc: PolicyDoc): Promise<void>;
  /** Adds a trusted issuer (by default for RESOURCE) and a rule granting it `scopes` there. */
  trust(idp: TestIdp, id: string, options?: { issuer?: Partial<TrustedIssuer>; scopes?: PolicyRule["scopes"]; rule?: Partial<PolicyRule> }): Promise<void>;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);
export const basic = (id: string, secret: string) => `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`;

/** A policy rule with its governance fields filled in. */
export function rule(fields: Pick<PolicyRule, "id" | "resources" | "scopes"> & Partial<PolicyRule>): PolicyRule {
  return { owner: "platform-team", approved_by: "security-team", reason: "test access", review_by: "2099-01-01", ...fields };
}

export function basePolicy(idp: TestIdp, otherIdp: TestIdp): PolicyDoc {
  return {
    version: 1,
    issuers: [
      { id: "test-idp", issuer: idp.issuer, jwks_uri: idp.jwksUri, default_resource: RESOURCE },
      { id: "other-idp", issuer: otherIdp.issuer, jwks_uri: otherIdp.jwksUri },
    ],
    resources: [
      {
        resource: RESOURCE,
        name: "Test MCP",
        scopes: [{ name: "read" }, { name: "write" }, { name: "admin" }],
        default_scopes: ["read"],
        access_token_ttl_seconds: 300,
      },
      { resource: OTHER_RESOURCE, name: "Other MCP", scopes: [{ name: "read" }] },
    ],
    rules: [
      rule({ id: "test-idp-mcp", issuers: ["test-idp"], resources: [RESOURCE], scopes: ["read", "write"] }),
      rule({ id: "other-idp-mcp", issuers: ["other-idp"], resources: [RESOURCE, OTHER_RESOURCE], scopes: "*" }),
    ],
  };
}

async function client(id: string, extra: Partial<ClientRecord> = {}): Promise<ClientRecord> {
  return {
    client_id: id,
    status: "active",
    token_endpoint_auth_methods: ["client_secret_basic", "client_secret_post"],
    client_secrets: [{ hash: await hashClientSecret(CLIENT_SECRET), created_at: "2026-11-01T00:00:00Z" }],
    grant_types: [JWT_BEARER],
    ...extra,
  };
}

export async function setupWorld(): Promise<World> {
  const idp = await createTestIdp();
  const otherIdp = await createTestIdp();
  const clientJwtKey = await makeKey("ES256", "client-key-1");
  const records: ClientRecord[] = [
    await client(CLIENT_ID),
    await client("client-no-grant", { grant_types: ["client_credentials"] }),
    await client("client-disabled", { status: "disabled" }),
    await client("client-limited", { allowed_resources: [OTHER_RESOURCE] }),
    {
      client_id: "client-jwt",
      status: "active",
      token_endpoint_auth_methods: ["private_key_jwt"],
      jwks: { keys: [clientJwtKey.publicJwk] },
      grant_types: [JWT_BEARER],
    },
  ];
  for (const record of records) await env.CONFIG.put(`client:v1:${record.client_id}`, JSON.stringify(record));
  // Records of another test file's world may still be cached in this isolate.
  forgetClientsForTests();

  const world: World = {
    idp,
    otherIdp,
    clientJwtKey,
    policy: basePolicy(idp, otherIdp),
    claims(overrides = {}) {
      const now = nowSeconds();
      const claims: Record<string, unknown> = {
        iss: idp.issuer,
        sub: "user-123",
        aud: ISSUER,
        client_id: CLIENT_ID,
        jti: crypto.randomUUID(),
        iat: now,
        exp: now + 300,
        resource: RESOURCE,
        scope: "read write",
      };
      for (const [k, v] of Object.entries(overrides)) {
        if (v === undefined) delete claims[k];
        else claims[k] = v;
      }
      return claims as JWTPayload;
    },
    async assertion(overrides = {}, options = {}) {
      const from = options.from ?? idp;
      return from.sign(world.claims({ iss: from.issuer, ...overrides }), options);
    },
    async exchange(params, options = {}) {
      const body = new URLSearchParams();
      for (const [k, v] of Object.entries(params)) for (const value of [v].flat()) body.append(k, value);
      const auth = options.auth === undefined ? basic(CLIENT_ID, CLIENT_SECRET) : options.auth;
      return exports.default.fetch(TOKEN_URL, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          ...(auth !== null && { authorization: auth }),
          ...options.headers,
        },
        body,
      });
    },
    async writePolicy(doc) {
      world.policy = { ...doc, version: doc.version + 1 };
      await env.CONFIG.put("policy:v1", JSON.stringify(world.policy));
      forgetPolicyForTests();
    },
    async trust(trusted, id, options = {}) {
      await world.writePolicy({
        ...world.policy,
        issuers: [...world.policy.issuers, { id, issuer: trusted.issuer, jwks_uri: trusted.jwksUri, default_resource: RESOURCE, ...options.issuer }],
        rules: [...world.policy.rules, rule({ id, issuers: [id], resources: [RESOURCE], scopes: options.scopes ?? "*", ...options.rule })],
      });
    },
  };
  await world.writePolicy({ ...world.policy, version: 0 });
  return world;
}

/** Reads an OAuth error response: status, error code and description. */
export async function readError(res: Response): Promise<{ status: number; error: string; description: string }> {
  const body = await res.json<{ error: string; error_description: string }>();
  return { status: res.status, error: body.error, description: body.error_description };
}

/**
 * Collects the Worker's audit lines (it runs in this isolate), so a test can assert the precise
 * reason behind a generic wire error. Call once per file, in beforeAll.
 */
export function captureAudit(): Map<string, Record<string, any>> {
  const events = new Map<string, Record<string, any>>();
  const original = console.log;
  console.log = (...args: unknown[]) => {
    const line = args[0];
    if (typeof line === "string" && line.startsWith('{"type":"ema.')) {
      const event = JSON.parse(line);
      if (event.request_id) events.set(event.request_id, event);
      return;
    }
    original(...args);
  };
  return events;
}

/** Asserts an OAuth error response and the audit reason behind it; returns the wire body. */
export async function expectRefusal(
  res: Response,
  audit: Map<string, Record<string, any>>,
  expected: { status?: number; error: string; reason: string },
): Promise<{ error: string; error_description: string }> {
  const body = await res.json<{ error: string; error_description: string }>();
  const event = audit.get(res.headers.get("x-request-id") ?? "");
  expect({ status: res.status, error: body.error, reason: event?.reason }).toEqual({
    status: expected.status ?? (expected.error === "invalid_client" ? 401 : 400),
    error: expected.error,
    reason: expected.reason,
  });
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(body).not.toHaveProperty("access_token");
  return body;
}
