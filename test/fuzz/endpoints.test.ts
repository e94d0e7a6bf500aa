// End-to-end properties through the Worker's fetch (real KV, the real SubjectShard): arbitrary
// methods, content types, credentials and bodies at the token endpoint and the three webhook
// endpoints are answered with a 4xx in the endpoint's error shape (OAuth `error`, SET `err`, the
// webhook `error`), never a 500, and a refused request revokes nobody.
//
// Requests go to the Worker's default export directly rather than through `exports.default.fetch`:
// @cloudflare/vitest-pool-workers 0.15.1 wraps its entrypoint prototype in one more Proxy on every
// construction (cloudflare/workers-sdk#15092, fixed by #15106), so thousands of calls through it
// slow down quadratically and end in a RangeError inside the harness, not in our code.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../workers/authorization-server/index";
import { REASONS as OAUTH_REASONS } from "../../workers/authorization-server/oauth/errors";
import { SET_ERROR_TEXT } from "../../workers/authorization-server/webhooks/set-errors";
import { WEBHOOK_REASONS } from "../../workers/authorization-server/webhooks/responses";
import { hashSharedSecret } from "../../workers/lib/shared-secret";
import { captureAuditLog, envelope, HOOK_SECRET, hookUrl, linesOf, logEvent, logoutUrl, storedRevokedBefore, type AuditLog } from "../support/okta";
import { ssfUrl } from "../support/ssf";
import { createTestIdp, type TestIdp } from "../support/test-idp";
import { basic, CLIENT_ID, CLIENT_SECRET, ISSUER, JWT_BEARER, nowSeconds, RESOURCE, setupWorld, TOKEN_URL, type World } from "../support/world";
import { check, compactLike, HTTP_RUNS, json, jsonText, mutated, TIMEOUT_MS } from "./support";

let world: World;
let okta: TestIdp;
let log: AuditLog;
const LOGOUT_CLIENT = "0oa-logout-client";
/** Named by no fuzzed body: its revoked_before must stay unset. */
const SENTINEL = "00u-fuzz-sentinel";

beforeAll(async () => {
  log = captureAuditLog();
  world = await setupWorld();
  okta = await createTestIdp();
  await world.trust(okta, "okta", {
    issuer: {
      revocation: {
        okta_event_hook: { secret_sha256: [await hashSharedSecret(HOOK_SECRET)] },
        ssf: {},
        universal_logout: { client_id: LOGOUT_CLIENT },
      },
    },
  });
});

const OAUTH_ERRORS = new Set(Object.values(OAUTH_REASONS).map((r) => r.error));
const SET_ERRS = new Set(Object.keys(SET_ERROR_TEXT));
/** The `error` of a webhook refusal: the reason when public, else the status's generic word. */
const WEBHOOK_ERRORS = new Set([
  ...Object.keys(WEBHOOK_REASONS),
  "invalid_request", "unauthorized", "not_found", "method_not_allowed", "payload_too_large", "unsupported_media_type", "temporarily_unavailable",
]);

/** Header values a client can send (the Headers class refuses control characters and non-Latin-1). */
const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const method = fc.oneof({ weight: 12, arbitrary: fc.constant("POST") }, { weight: 1, arbitrary: fc.constantFrom("GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD") });
const contentType = (usual: string) => fc.oneof({ weight: 6, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: fc.constantFrom(`${usual}; charset=utf-8`, usual.toUpperCase(), "text/plain", "") }, { weight: 1, arbitrary: headerValue });
const oversize = (bytes: number) => fc.integer({ min: bytes - 1, max: bytes + 1 }).map((n) => "a".repeat(n));

interface Sent {
  method: string;
  headers: Record<string, string>;
  body: string | Uint8Array;
}
async function send(url: string, sent: Sent): Promise<Response> {
  const hasBody = sent.method !== "GET" && sent.method !== "HEAD";
  const request = new Request(url, { method: sent.method, headers: sent.headers, ...(hasBody && { body: sent.body }) });
  const ctx = createExecutionContext();
  const response = await worker.fetch(request as Parameters<typeof worker.fetch>[0], env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** A refused request: the status is a 4xx in `allowed`, and nothing was revoked by it. */
function expectRefusedWithoutEffect(res: Response, allowed: number[]): void {
  expect(allowed, `status ${res.status}`).toContain(res.status);
  expect(linesOf(log, res).filter((l) => l.type === "ema.revocation")).toEqual([]);
}

describe("POST /oauth2/token", () => {
  it("answers any request with an OAuth error (400, 401, 405, 413), never a token or a 500", async () => {
    const now = nowSeconds();
    const header = mutated({ typ: "oauth-id-jag+jwt", alg: "RS256", kid: "rsa-1" }, { alg: fc.constantFrom("ES256", "HS256", "none"), kid: fc.constantFrom("ec-1", "nope") });
    const claims = mutated(world.claims({ iss: okta.issuer, iat: now, exp: now + 300 }) as Record<string, unknown>, { iss: fc.constantFrom(world.idp.issuer, ISSUER, "https://evil.example"), aud: fc.constantFrom([ISSUER], "x"), resource: fc.constantFrom([RESOURCE, RESOURCE], "urn:x") });
    // Signatures are random bytes, so no assertion can verify: every outcome must be a refusal.
    const grant = fc.record(
      {
        grant_type: fc.oneof({ weight: 6, arbitrary: fc.constant(JWT_BEARER) }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) }),
        assertion: fc.oneof({ weight: 6, arbitrary: compactLike(header, claims) }, { weight: 1, arbitrary: oversize(16 * 1024) }),
        scope: fc.oneof(fc.constantFrom("read", "read write", "a\"b"), fc.string({ maxLength: 10 })),
        resource: fc.oneof(fc.constant(RESOURCE), fc.string({ maxLength: 10 })),
      },
      { requiredKeys: ["grant_type", "assertion"] },
    );
    // One client authentication method mostly (HTTP Basic, form secret, private_key_jwt), sometimes none or several.
    const clientAssertion = compactLike(mutated({ alg: "ES256", kid: "client-key-1" }), mutated({ iss: "client-jwt", sub: "client-jwt", aud: ISSUER, exp: now + 60, jti: "j" }));
    const credentials = fc.oneof(
      { weight: 4, arbitrary: fc.constant({ header: basic(CLIENT_ID, CLIENT_SECRET), form: {} }) },
      { weight: 1, arbitrary: fc.constant({ header: basic(CLIENT_ID, "wrong"), form: {} }) },
      { weight: 1, arbitrary: headerValue.map((header) => ({ header, form: {} })) },
      { weight: 1, arbitrary: fc.constantFrom(CLIENT_SECRET, "wrong").map((secret) => ({ form: { client_id: CLIENT_ID, client_secret: secret } })) },
      { weight: 2, arbitrary: clientAssertion.map((a) => ({ form: { client_assertion: a, client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" } })) },
      { weight: 1, arbitrary: fc.constant({ form: {} }) },
      { weight: 1, arbitrary: fc.constant({ header: basic(CLIENT_ID, CLIENT_SECRET), form: { client_secret: CLIENT_SECRET } }) },
    );
    const request = fc.tuple(grant, credentials, fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom("grant_type", "assertion", "client_id") })).map(([g, c, dup]) => {
      const form = new URLSearchParams({ ...(g as Record<string, string>), ...(c.form as Record<string, string>) });
      if (dup !== undefined) form.append(dup, "again");
      return { header: "header" in c ? c.header : undefined, body: form.toString() as string | Uint8Array };
    });
    const junk = fc.oneof(fc.string({ unit: "binary", maxLength: 200 }), fc.uint8Array({ maxLength: 200 }), oversize(32 * 1024)).map((body) => ({ header: basic(CLIENT_ID, CLIENT_SECRET) as string | undefined, body }));
    const sent = fc.oneof({ weight: 6, arbitrary: request }, { weight: 1, arbitrary: junk });
    await check(
      "HTTP POST /oauth2/token",
      fc.asyncProperty(method, contentType("application/x-www-form-urlencoded"), sent, async (m, type, { header: auth, body: b }) => {
        const res = await send(TOKEN_URL, { method: m, headers: { "content-type": type, ...(auth !== undefined && { authorization: auth }) }, body: b });
        expectRefusedWithoutEffect(res, [400, 401, 405, 413]);
        expect(res.headers.get("cache-control")).toBe("no-store");
        if (m === "HEAD") return;
        const answer = await res.json<Record<string, unknown>>();
        expect(OAUTH_ERRORS.has(answer.error as never), JSON.stringify(answer)).toBe(true);
        expect(answer).not.toHaveProperty("access_token");
      }),
      HTTP_RUNS,
    );
  }, TIMEOUT_MS);
});

/** The fuzz's Okta users: never SENTINEL. */
const fuzzSub = fc.constantFrom("00ufuzz1", "00ufuzz2", "", "a\nb");

describe("webhook endpoints", () => {
  it("answers any Okta Event Hook call with 204 or a webhook error, never a 500; a refused one revokes nobody", async () => {
    const events = fc.array(fc.oneof(fuzzSub.chain((sub) => mutated(logEvent(sub))), json), { maxLength: 4 });
    const body = fc.oneof(
      { weight: 5, arbitrary: jsonText(events.chain((e) => mutated(envelope(e), { eventTypeVersion: fc.constantFrom("2.0"), data: fc.constant({ events: "x" }) }))) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
      { weight: 1, arbitrary: oversize(256 * 1024) },
    );
    const secret = fc.oneof({ weight: 5, arbitrary: fc.constant(HOOK_SECRET) }, { weight: 1, arbitrary: headerValue });
    await check(
      "HTTP /hooks/okta/{id}",
      fc.asyncProperty(method, fc.constantFrom("okta", "okta", "okta", "okta", "okta", "nope", "test-idp"), contentType("application/json"), fc.option(secret, { nil: undefined }), body, async (m, id, type, s, b) => {
        const res = await send(hookUrl(id), { method: m, headers: { "content-type": type, ...(s !== undefined && { authorization: s }) }, body: b });
        if (res.status === 204 || (m === "GET" && res.status === 200)) return;
        expectRefusedWithoutEffect(res, [400, 401, 404, 405, 413, 415]);
        if (m === "HEAD") return;
        const answer = await res.json<Record<string, unknown>>();
        expect(WEBHOOK_ERRORS.has(answer.error as string), JSON.stringify(answer)).toBe(true);
      }),
      HTTP_RUNS,
    );
  }, TIMEOUT_MS);

  it("answers any SET push with an RFC 8935 error (400 with err, or 404/405/413), never a 500 or a revocation", async () => {
    const now = nowSeconds();
    const header = mutated({ typ: "secevent+jwt", alg: "RS256", kid: "rsa-1" }, { kid: fc.constantFrom("ec-1", "nope"), alg: fc.constantFrom("ES256", "none") });
    const claims = fuzzSub.chain((sub) =>
      mutated(
        { iss: okta.issuer, aud: ISSUER, iat: now, jti: "set-1", sub_id: { format: "iss_sub", iss: okta.issuer, sub }, events: { "https://schemas.openid.net/secevent/caep/event-type/session-revoked": { event_timestamp: now } } },
        { iss: fc.constantFrom(world.idp.issuer), sub_id: fc.constantFrom({ format: "opaque", id: "s" }, { format: "email", email: "a@b" }) },
      ),
    );
    const body = fc.oneof({ weight: 5, arbitrary: compactLike(header, claims) }, { weight: 1, arbitrary: oversize(64 * 1024) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 100 }) });
    await check(
      "HTTP /ssf/{id}",
      fc.asyncProperty(method, fc.constantFrom("okta", "okta", "okta", "okta", "okta", "nope"), contentType("application/secevent+jwt"), fc.option(headerValue, { nil: undefined, freq: 2 }), body, async (m, id, type, auth, b) => {
        const res = await send(ssfUrl(id), { method: m, headers: { "content-type": type, ...(auth !== undefined && { authorization: auth }) }, body: b });
        expectRefusedWithoutEffect(res, [400, 404, 405, 413]);
        if (res.status !== 400 || m === "HEAD") return;
        const answer = await res.json<Record<string, unknown>>();
        expect(SET_ERRS.has(answer.err as string), JSON.stringify(answer)).toBe(true);
        expect(typeof answer.description).toBe("string");
      }),
      HTTP_RUNS,
    );
  }, TIMEOUT_MS);

  it("answers any Universal Logout call with a webhook error, never a 500 or a revocation", async () => {
    const now = nowSeconds();
    const header = mutated({ typ: "global-token-revocation+jwt", alg: "RS256", kid: "rsa-1" }, { kid: fc.constantFrom("ec-1", "nope") });
    const claims = mutated({ iss: okta.issuer, aud: logoutUrl("okta"), sub: LOGOUT_CLIENT, iat: now, exp: now + 300, jti: "lo-1" });
    const token = fc.oneof({ weight: 5, arbitrary: compactLike(header, claims) }, { weight: 1, arbitrary: oversize(8 * 1024) });
    const authorization = fc.option(fc.oneof({ weight: 8, arbitrary: token.filter((t) => /^[\x20-\x7e]*$/.test(t)).map((t) => `Bearer ${t}`) }, { weight: 1, arbitrary: headerValue }), { nil: undefined });
    const body = fc.oneof(
      { weight: 4, arbitrary: jsonText(fuzzSub.chain((sub) => mutated({ sub_id: { format: "iss_sub", iss: okta.issuer, sub } }, { sub_id: fc.constantFrom({ format: "email", email: "fuzz@acme.example" }) }))) },
      { weight: 1, arbitrary: oversize(4 * 1024) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 100 }) },
    );
    await check(
      "HTTP /logout/okta/{id}",
      fc.asyncProperty(method, fc.constantFrom("okta", "okta", "okta", "okta", "okta", "nope"), contentType("application/json"), authorization, body, async (m, id, type, auth, b) => {
        const res = await send(logoutUrl(id), { method: m, headers: { "content-type": type, ...(auth !== undefined && { authorization: auth }) }, body: b });
        expectRefusedWithoutEffect(res, [400, 401, 404, 405, 413, 415]);
        if (m === "HEAD") return;
        const answer = await res.json<Record<string, unknown>>();
        expect(WEBHOOK_ERRORS.has(answer.error as string), JSON.stringify(answer)).toBe(true);
      }),
      HTTP_RUNS,
    );
  }, TIMEOUT_MS);

  it("left the sentinel subject, named by no fuzzed request, unrevoked", async () => {
    expect(await storedRevokedBefore({ iss: okta.issuer, sub: SENTINEL })).toBeUndefined();
  });
});

