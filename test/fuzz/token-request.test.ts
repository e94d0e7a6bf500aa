// Properties of the token-request parsers: the capped body reader, the urlencoded form, the client
// credentials (Basic header, form secret, client assertion), and the scope and resource parameters.
// Any input yields a value or a known refusal, never an exception.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalizeResourceUri } from "../../workers/authorization-server/assertion/resource";
import { MAX_SCOPE_TOKENS, parseScope } from "../../workers/authorization-server/assertion/scope";
import { JWT_BEARER_ASSERTION_TYPE } from "../../workers/authorization-server/client/assertion";
import { authenticateClient } from "../../workers/authorization-server/client/authenticate";
import { hashClientSecret } from "../../workers/authorization-server/client/secret";
import { readBodyText } from "../../workers/lib/body";
import { MAX_FORM_BYTES, parseForm, readForm } from "../../workers/authorization-server/http/form";
import type { RequestRefusal } from "../../workers/authorization-server/oauth/refusal";
import type { ClientRecord } from "../../workers/lib/kv-records";
import { makeKey } from "../support/test-idp";
import { check, compactLike, expectKnownOutcome, mutated, nearLimit, TIMEOUT_MS } from "./support";
import { ASSERTION_DEFECTS, CLIENT_REASONS } from "./reasons";

/** What readForm itself can refuse for: the rest of RequestRefusal is the handler's. */
const READ_FORM_REASONS = ["method_not_allowed", "unsupported_content_type", "body_too_large", "malformed_body", "duplicate_parameter"] as const satisfies readonly RequestRefusal["reason"][];
const PARAM_NAMES = [
  "grant_type", "assertion", "scope", "resource", "client_id", "client_secret", "client_assertion", "client_assertion_type", "token", "token_type_hint",
];
/** A form-ish body: known and arbitrary names, arbitrary and encoded values, repeats, stray `&`, `=` and `%`. */
const formText = fc.oneof(
  { weight: 3, arbitrary: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...PARAM_NAMES), fc.string({ maxLength: 8 })), fc.string({ unit: "binary", maxLength: 30 })), { maxLength: 8 }).map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&")) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z=&%+0-9A-F;]{0,60}$/) },
);

describe("http/form.ts parseForm", () => {
  it("yields single-valued, non-empty parameters or a known refusal for any text", async () => {
    await check("http/form parseForm", fc.property(formText, (text) => {
      const r = parseForm(text);
      expectKnownOutcome(r, ["malformed_body", "duplicate_parameter"]);
      if (r.ok) for (const value of r.value.values()) expect(value).not.toBe("");
    }));
  }, TIMEOUT_MS);
});

const TOKEN_URL = "https://as.example.test/oauth2/token";
/** Header values a client can send: visible ASCII and tabs (the Headers class refuses the rest). */
const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 });
const contentType = fc.oneof(
  fc.constantFrom("application/x-www-form-urlencoded", "APPLICATION/X-WWW-FORM-URLENCODED; charset=utf-8", "application/x-www-form-urlencoded;", "application/json", "text/plain", "multipart/form-data; boundary=x", ""),
  headerValue,
);
const body = fc.oneof(
  { weight: 3, arbitrary: formText.map((t) => new TextEncoder().encode(t)) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  { weight: 1, arbitrary: nearLimit(MAX_FORM_BYTES).map((t) => new TextEncoder().encode(t)) },
);

describe("http/form.ts readForm", () => {
  it("answers any method, content type, Content-Length and body with parameters or a known refusal", async () => {
    await check(
      "http/form readForm (Request)",
      fc.asyncProperty(
        fc.constantFrom("POST", "POST", "POST", "PUT", "PATCH", "DELETE", "GET", "OPTIONS"),
        contentType,
        fc.option(fc.oneof(fc.nat().map(String), headerValue), { nil: undefined }),
        body,
        fc.boolean(),
        async (method, type, length, bytes, streamed) => {
          const hasBody = method !== "GET";
          const headers: Record<string, string> = { "content-type": type };
          if (length !== undefined && !streamed) headers["content-length"] = length;
          const request = new Request(TOKEN_URL, {
            method,
            headers,
            ...(hasBody && { body: streamed ? new Blob([bytes]).stream() : bytes }),
          });
          expectKnownOutcome(await readForm(request), READ_FORM_REASONS);
        },
      ),
    );
  }, TIMEOUT_MS);
});

describe("http/body.ts readBodyText", () => {
  it("returns UTF-8 text within the cap, or too_large / not_utf8, for any bytes", async () => {
    await check("http/body readBodyText", fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 256 }), async (bytes, cap) => {
      const r = await readBodyText(new Request(TOKEN_URL, { method: "POST", body: bytes }), cap);
      expectKnownOutcome(r, ["too_large", "not_utf8"], (e) => e);
      if (r.ok) expect(new TextEncoder().encode(r.value).byteLength).toBeLessThanOrEqual(cap);
      else if (r.error === "too_large") expect(bytes.byteLength).toBeGreaterThan(cap);
    }));
  }, TIMEOUT_MS);
});

describe("client/authenticate.ts authenticateClient", () => {
  it("authenticates or refuses with a known reason for any credentials, header and stored record", async () => {
    const key = await makeKey("ES256", "client-key-1");
    const secretHash = await hashClientSecret("s3cret");
    const record = (clientId: string, methods: ClientRecord["token_endpoint_auth_methods"], status: ClientRecord["status"]): ClientRecord => ({
      client_id: clientId, status, token_endpoint_auth_methods: methods, grant_types: ["urn:ietf:params:oauth:grant-type:jwt-bearer"],
      client_secrets: [{ hash: secretHash, created_at: "2026-01-01T00:00:00Z" }], jwks: { keys: [key.publicJwk] },
    });
    const now = 1_800_000_000;
    const clientId = fc.oneof(fc.constantFrom("client-1", "client 1", "", "a".repeat(256), "c%20d", "é"), fc.string({ maxLength: 12 }));
    const basicHeader = fc.oneof(
      fc.tuple(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 })).map(([id, s]) => `Basic ${btoa(unescape(encodeURIComponent(`${id}:${s}`)))}`),
      fc.tuple(clientId, fc.constantFrom("s3cret", "wrong", "", "%zz")).map(([id, s]) => `Basic ${btoa(unescape(encodeURIComponent(`${encodeURIComponent(id)}:${s}`)))}`),
      fc.uint8Array({ maxLength: 30 }).map((b) => `basic ${btoa(String.fromCharCode(...b))}`),
      fc.constantFrom("Basic", "Basic ", "Bearer abc", "Basic ===", "Basic Og==", "Basic YTo=", "Basic OmI=", "Basic /w==", "Basic JXp6OmI="),
      headerValue,
    );
    const assertion = fc.oneof(
      compactLike(
        mutated({ alg: "ES256", typ: "JWT", kid: "client-key-1" }, { alg: fc.constantFrom("ES256", "RS256", "HS256", "none"), typ: fc.constantFrom("client-authentication+jwt", "oauth-id-jag+jwt") }),
        mutated({ iss: "client-1", sub: "client-1", aud: "https://as.example.test", exp: now + 60, jti: "j" }),
      ),
      nearLimit(8192, "a").map((s) => `${s}.${s}.${s}`),
    );
    const param = (name: string, arb: fc.Arbitrary<string>) => fc.option(arb.map((v) => [name, v] as const), { nil: undefined });
    await check(
      "client/authenticate authenticateClient",
      fc.asyncProperty(
        param("client_id", clientId),
        param("client_secret", fc.constantFrom("s3cret", "wrong", "")),
        param("client_assertion", assertion),
        param("client_assertion_type", fc.oneof(fc.constant(JWT_BEARER_ASSERTION_TYPE), fc.string({ maxLength: 10 }))),
        fc.option(basicHeader, { nil: null }),
        fc.constantFrom<ClientRecord | null | "self">(null, "self", record("other", ["client_secret_basic"], "active")),
        fc.subarray<ClientRecord["token_endpoint_auth_methods"][number]>(["client_secret_basic", "client_secret_post", "private_key_jwt"]),
        fc.constantFrom<ClientRecord["status"]>("active", "disabled"),
        async (id, secret, assertionParam, type, authorization, stored, methods, status) => {
          const params = new Map([id, secret, assertionParam, type].filter((p) => p !== undefined) as [string, string][]);
          const r = await authenticateClient({
            params,
            authorization,
            issuer: "https://as.example.test",
            tokenEndpoint: TOKEN_URL,
            now,
            loadClient: async (requested) => (stored === "self" ? record(requested, methods, status) : stored),
          });
          expectKnownOutcome(r, CLIENT_REASONS);
          if (!r.ok && r.error.reason === "client_assertion_invalid") expect(ASSERTION_DEFECTS.has(r.error.detail)).toBe(true);
        },
      ),
    );
  }, TIMEOUT_MS);
});

describe("assertion/scope.ts parseScope and assertion/resource.ts normalizeResourceUri", () => {
  it("parses any scope string into well-formed tokens or undefined", async () => {
    const scope = fc.oneof(fc.string({ unit: "binary", maxLength: 80 }), fc.array(fc.constantFrom("read", "write", "a\"b", "é", ""), { maxLength: MAX_SCOPE_TOKENS + 2 }).map((t) => t.join(" ")));
    await check("assertion/scope parseScope", fc.property(scope, (value) => {
      const tokens = parseScope(value);
      if (tokens !== undefined) for (const t of tokens) expect(t).toMatch(/^[\x21\x23-\x5B\x5D-\x7E]+$/);
    }));
  }, TIMEOUT_MS);
  it("normalises any string to an absolute URI without a fragment or undefined", async () => {
    const uri = fc.oneof(fc.webUrl({ withFragments: true, withQueryParameters: true }), fc.string({ unit: "binary", maxLength: 60 }), nearLimit(2048).map((s) => `https://x/${s}`));
    await check("assertion/resource normalizeResourceUri", fc.property(uri, (value) => {
      const normalized = normalizeResourceUri(value);
      if (normalized !== undefined) expect(normalized.includes("#")).toBe(false);
    }));
  }, TIMEOUT_MS);
});

