import fc from "fast-check";
import { SignJWT } from "jose";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { ClientRecord } from "../../../workers/lib/kv-records";
import type { ClientRefusal } from "../../../workers/authorization-server/oauth/refusal";
import {
  authenticateClient,
  type ClientAuthInput,
} from "../../../workers/authorization-server/client/authenticate";
import { JWT_BEARER_ASSERTION_TYPE } from "../../../workers/authorization-server/client/assertion";
import { forgetVerifiedSecretsForTests, generateClientSecret, hashClientSecret } from "../../../workers/authorization-server/client/secret";
import { makeKey, type TestKey } from "../../support/test-idp";

const NOW = 1_800_000_000;
const ISSUER = "https://as.example.test";
const TOKEN_ENDPOINT = `${ISSUER}/oauth2/token`;
const GRANT = { grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion: "eyJ.id-jag.sig" };
const SECRET = generateClientSecret();
const OLD_SECRET = generateClientSecret();
/** A client_id and secret that need RFC 6749 §2.3.1 form-encoding inside the Basic header. */
const ODD_ID = "svc:1+x%";
const ODD_SECRET = "pä ss+w:rd/%";

const iso = (t: number) => new Date(t * 1000).toISOString();
const clients = new Map<string, ClientRecord>();
let ec: TestKey;
let stranger: TestKey;

beforeAll(async () => {
  [ec, stranger] = await Promise.all([makeKey("ES256", "ec-1"), makeKey("ES256", "ec-1")]);
  const secrets = async (...values: string[]) =>
    Promise.all(values.map(async (v) => ({ hash: await hashClientSecret(v), created_at: iso(NOW - 86_400) })));
  const record = (client_id: string, rest: Partial<ClientRecord>): ClientRecord => ({
    client_id,
    status: "active",
    token_endpoint_auth_methods: ["client_secret_basic", "client_secret_post"],
    grant_types: [GRANT.grant_type],
    ...rest,
  });
  const add = (key: string, r: ClientRecord) => clients.set(key, r);
  add("secret-client", record("secret-client", { client_secrets: await secrets(SECRET) }));
  add("basic-only", record("basic-only", { token_endpoint_auth_methods: ["client_secret_basic"], client_secrets: await secrets(SECRET) }));
  add("post-only", record("post-only", { token_endpoint_auth_methods: ["client_secret_post"], client_secrets: await secrets(SECRET) }));
  add("disabled", record("disabled", { status: "disabled", client_secrets: await secrets(SECRET) }));
  add(ODD_ID, record(ODD_ID, { client_secrets: await secrets(ODD_SECRET) }));
  add(
    "rotating",
    record("rotating", {
      client_secrets: [
        { ...(await secrets(OLD_SECRET))[0]!, expires_at: iso(NOW + 1) },
        ...(await secrets(SECRET)),
      ],
    }),
  );
  add("colon-secret", record("colon-secret", { client_secrets: await secrets("ab:cd") }));
  add("misfiled", record("someone-else", { client_secrets: await secrets(SECRET) }));
  add("jwt-client", record("jwt-client", { token_endpoint_auth_methods: ["private_key_jwt"], jwks: { keys: [ec.publicJwk] } }));
  add(
    "jwt-disabled",
    record("jwt-disabled", { status: "disabled", token_endpoint_auth_methods: ["private_key_jwt"], jwks: { keys: [ec.publicJwk] } }),
  );
  add("jwks-but-secret-only", record("jwks-but-secret-only", { client_secrets: await secrets(SECRET), jwks: { keys: [ec.publicJwk] } }));
});

afterEach(() => vi.restoreAllMocks());

/** The KV boundary: a Map, counting lookups. */
const lookups: string[] = [];
async function loadClient(clientId: string): Promise<ClientRecord | null> {
  lookups.push(clientId);
  return clients.get(clientId) ?? null;
}

interface Req {
  params: Record<string, string>;
  authorization?: string | null;
  now?: number;
}

const input = (req: Req): ClientAuthInput => ({
  params: new Map(Object.entries(req.params)),
  authorization: req.authorization ?? null,
  issuer: ISSUER,
  tokenEndpoint: TOKEN_ENDPOINT,
  now: req.now ?? NOW,
  loadClient,
});

const formEncode = (v: string) => encodeURIComponent(v).replace(/%20/g, "+");
const base64 = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));
/** RFC 6749 §2.3.1: form-encode each half, then base64. */
const basic = (id: string, secret: string) => `Basic ${base64(`${formEncode(id)}:${formEncode(secret)}`)}`;
const rawBasic = (text: string) => `Basic ${base64(text)}`;

async function clientAssertion(claims: Record<string, unknown> = {}, key: TestKey = ec, typ?: string) {
  return new SignJWT({ iss: "jwt-client", sub: "jwt-client", aud: ISSUER, iat: NOW, exp: NOW + 120, jti: "ca-1", ...claims })
    .setProtectedHeader({ alg: "ES256", kid: "ec-1", ...(typ ? { typ } : {}) })
    .sign(key.privateKey);
}
const jwtParams = (assertion: string, extra: Record<string, string> = {}) => ({
  ...GRANT,
  client_assertion: assertion,
  client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
  ...extra,
});

const validBasic = (): Req => ({ params: { ...GRANT }, authorization: basic("secret-client", SECRET) });
const validPost = (): Req => ({ params: { ...GRANT, client_id: "secret-client", client_secret: SECRET } });

describe("authenticateClient: accepted", () => {
  it("authenticates client_secret_basic", async () => {
    expect(await authenticateClient(input(validBasic()))).toEqual({
      ok: true,
      value: { client: clients.get("secret-client"), method: "client_secret_basic" },
    });
  });

  it("authenticates client_secret_post", async () => {
    expect(await authenticateClient(input(validPost()))).toEqual({
      ok: true,
      value: { client: clients.get("secret-client"), method: "client_secret_post" },
    });
  });

  it("authenticates private_key_jwt and hands back the assertion's jti and exp for the replay ledger", async () => {
    expect(await authenticateClient(input({ params: jwtParams(await clientAssertion()) }))).toEqual({
      ok: true,
      value: { client: clients.get("jwt-client"), method: "private_key_jwt", assertionReplayKey: { jti: "ca-1", exp: NOW + 120 } },
    });
  });

  it.each([
    { name: "Basic with the same client_id in the body", req: () => ({ ...validBasic(), params: { ...GRANT, client_id: "secret-client" } }) },
    { name: "a lower-case basic scheme (RFC 7235: schemes are case-insensitive)", req: () => ({ ...validBasic(), authorization: validBasic().authorization!.replace("Basic", "basic") }) },
    { name: "Basic with an empty client_secret parameter (RFC 6749 §3.2: treated as omitted)", req: () => ({ ...validBasic(), params: { ...GRANT, client_secret: "" } }) },
    { name: "an id and secret form-encoded inside Basic (RFC 6749 §2.3.1)", req: () => ({ params: { ...GRANT }, authorization: basic(ODD_ID, ODD_SECRET) }) },
    { name: "the same id and secret in the body", req: () => ({ params: { ...GRANT, client_id: ODD_ID, client_secret: ODD_SECRET } }) },
    { name: "a raw colon in a Basic secret (RFC 7617: split at the first colon)", req: () => ({ params: { ...GRANT }, authorization: rawBasic("colon-secret:ab:cd") }) },
    { name: "the older secret while it is still in force (rotation)", req: () => ({ params: { ...GRANT }, authorization: basic("rotating", OLD_SECRET) }) },
    { name: "the newer secret during rotation", req: () => ({ params: { ...GRANT }, authorization: basic("rotating", SECRET) }) },
  ])("accepts $name", async ({ req }) => {
    expect((await authenticateClient(input(req()))).ok).toBe(true);
  });

  it("accepts private_key_jwt with a matching body client_id", async () => {
    const req = { params: jwtParams(await clientAssertion(), { client_id: "jwt-client" }) };
    expect((await authenticateClient(input(req))).ok).toBe(true);
  });
});

interface RefusalCase {
  name: string;
  req: () => Req | Promise<Req>;
  error: ClientRefusal;
}

const malformed = (detail: string): ClientRefusal => ({ reason: "client_auth_malformed", detail });
const assertionInvalid = (detail: string): ClientRefusal => ({ reason: "client_assertion_invalid", detail });

const cases: RefusalCase[] = [
  // which method
  { name: "a request without credentials", req: () => ({ params: { ...GRANT } }), error: { reason: "client_auth_missing" } },
  { name: "a bare client_id (public client, no opt-in)", req: () => ({ params: { ...GRANT, client_id: "secret-client" } }), error: { reason: "client_auth_missing" } },
  { name: "Basic plus client_secret in the body", req: () => ({ ...validBasic(), params: { ...GRANT, client_secret: SECRET } }), error: { reason: "client_auth_multiple_methods" } },
  { name: "Basic plus client_assertion", req: async () => ({ ...validBasic(), params: jwtParams(await clientAssertion()) }), error: { reason: "client_auth_multiple_methods" } },
  { name: "Basic plus a lone client_assertion_type", req: () => ({ ...validBasic(), params: { ...GRANT, client_assertion_type: JWT_BEARER_ASSERTION_TYPE } }), error: { reason: "client_auth_multiple_methods" } },
  { name: "client_secret plus client_assertion", req: async () => ({ params: jwtParams(await clientAssertion(), { client_id: "jwt-client", client_secret: SECRET }) }), error: { reason: "client_auth_multiple_methods" } },
  { name: "a Bearer header plus client_secret", req: () => ({ ...validPost(), authorization: "Bearer abc" }), error: { reason: "client_auth_multiple_methods" } },
  { name: "a Bearer Authorization header", req: () => ({ params: { ...GRANT }, authorization: "Bearer abc" }), error: malformed("authorization_scheme") },
  { name: "a scheme that merely starts with Basic", req: () => ({ params: { ...GRANT }, authorization: `Basicx ${base64("secret-client:x")}` }), error: malformed("authorization_scheme") },
  // Basic decoding (RFC 6749 §2.3.1)
  { name: "Basic without credentials", req: () => ({ params: { ...GRANT }, authorization: "Basic" }), error: malformed("basic_encoding") },
  { name: "Basic with characters outside base64", req: () => ({ params: { ...GRANT }, authorization: "Basic c2VjcmV0!!" }), error: malformed("basic_encoding") },
  { name: "Basic with base64url instead of base64", req: () => ({ params: { ...GRANT }, authorization: "Basic _-8=" }), error: malformed("basic_encoding") },
  { name: "Basic with whitespace inside the token", req: () => ({ params: { ...GRANT }, authorization: validBasic().authorization!.replace(/^Basic (....)/, "Basic $1 ") }), error: malformed("basic_encoding") },
  { name: "Basic with a misplaced pad", req: () => ({ params: { ...GRANT }, authorization: "Basic YQ=b" }), error: malformed("basic_encoding") },
  { name: "Basic whose bytes are not UTF-8", req: () => ({ params: { ...GRANT }, authorization: `Basic ${btoa("\xff\xfe:\xff")}` }), error: malformed("basic_encoding") },
  { name: "Basic without a colon", req: () => ({ params: { ...GRANT }, authorization: rawBasic("secret-client") }), error: malformed("basic_no_colon") },
  { name: "Basic with bad percent-encoding", req: () => ({ params: { ...GRANT }, authorization: rawBasic("secret-client:%zz") }), error: malformed("basic_percent_encoding") },
  { name: "Basic with an empty client_id", req: () => ({ params: { ...GRANT }, authorization: rawBasic(":secret") }), error: malformed("basic_client_id_empty") },
  { name: "Basic with an empty secret", req: () => ({ params: { ...GRANT }, authorization: rawBasic("secret-client:") }), error: malformed("basic_secret_empty") },
  { name: "Basic and a different body client_id", req: () => ({ ...validBasic(), params: { ...GRANT, client_id: "post-only" } }), error: malformed("client_id_mismatch") },
  { name: "an id and secret sent in Basic without form-encoding", req: () => ({ params: { ...GRANT }, authorization: rawBasic(`${ODD_ID}:${ODD_SECRET}`) }), error: malformed("basic_percent_encoding") },
  { name: "an id sent in Basic without form-encoding (+ reads as a space)", req: () => ({ params: { ...GRANT }, authorization: rawBasic(`a+b:${SECRET}`) }), error: malformed("client_id_syntax") },
  // client_secret_post
  { name: "client_secret without client_id", req: () => ({ params: { ...GRANT, client_secret: SECRET } }), error: malformed("client_id_missing") },
  { name: "a client_id that is too long for a record", req: () => ({ params: { ...GRANT, client_id: "c".repeat(256), client_secret: SECRET } }), error: malformed("client_id_syntax") },
  { name: "a client_id with a control character", req: () => ({ params: { ...GRANT, client_id: "secret-client\n", client_secret: SECRET } }), error: malformed("client_id_syntax") },
  // client_assertion pairing
  { name: "client_assertion without client_assertion_type", req: async () => ({ params: { ...GRANT, client_assertion: await clientAssertion() } }), error: malformed("client_assertion_type_missing") },
  { name: "client_assertion_type without client_assertion", req: () => ({ params: { ...GRANT, client_assertion_type: JWT_BEARER_ASSERTION_TYPE } }), error: malformed("client_assertion_missing") },
  // the record
  { name: "an unknown client (Basic)", req: () => ({ params: { ...GRANT }, authorization: basic("nobody", SECRET) }), error: { reason: "client_unknown" } },
  { name: "an unknown client (post)", req: () => ({ params: { ...GRANT, client_id: "nobody", client_secret: SECRET } }), error: { reason: "client_unknown" } },
  { name: "a record filed under another client_id", req: () => ({ params: { ...GRANT }, authorization: basic("misfiled", SECRET) }), error: { reason: "client_unknown" } },
  { name: "a disabled client with the right secret", req: () => ({ params: { ...GRANT }, authorization: basic("disabled", SECRET) }), error: { reason: "client_disabled" } },
  { name: "Basic for a post-only client", req: () => ({ params: { ...GRANT }, authorization: basic("post-only", SECRET) }), error: { reason: "client_auth_method_not_allowed", method: "client_secret_basic" } },
  { name: "post for a basic-only client", req: () => ({ params: { ...GRANT, client_id: "basic-only", client_secret: SECRET } }), error: { reason: "client_auth_method_not_allowed", method: "client_secret_post" } },
  { name: "a secret for a private_key_jwt-only client", req: () => ({ params: { ...GRANT }, authorization: basic("jwt-client", SECRET) }), error: { reason: "client_auth_method_not_allowed", method: "client_secret_basic" } },
  // the secret
  { name: "a wrong secret (Basic)", req: () => ({ params: { ...GRANT }, authorization: basic("secret-client", `${SECRET}x`) }), error: { reason: "client_secret_mismatch" } },
  { name: "a wrong secret (post)", req: () => ({ params: { ...GRANT, client_id: "secret-client", client_secret: OLD_SECRET } }), error: { reason: "client_secret_mismatch" } },
  { name: "the older secret at its expires_at", req: () => ({ params: { ...GRANT }, authorization: basic("rotating", OLD_SECRET), now: NOW + 1 }), error: { reason: "client_secret_mismatch" } },
  { name: "another client's secret", req: () => ({ params: { ...GRANT }, authorization: basic(ODD_ID, SECRET) }), error: { reason: "client_secret_mismatch" } },
  // private_key_jwt
  { name: "an assertion from an unknown client", req: async () => ({ params: jwtParams(await clientAssertion({ iss: "nobody", sub: "nobody" })) }), error: { reason: "client_unknown" } },
  { name: "an assertion from a disabled client", req: async () => ({ params: jwtParams(await clientAssertion({ iss: "jwt-disabled", sub: "jwt-disabled" })) }), error: { reason: "client_disabled" } },
  {
    name: "an assertion from a client not registered for private_key_jwt",
    req: async () => ({ params: jwtParams(await clientAssertion({ iss: "jwks-but-secret-only", sub: "jwks-but-secret-only" })) }),
    error: { reason: "client_auth_method_not_allowed", method: "private_key_jwt" },
  },
  { name: "an assertion with a different body client_id", req: async () => ({ params: jwtParams(await clientAssertion(), { client_id: "secret-client" }) }), error: assertionInvalid("client_id") },
  { name: "an assertion signed by an unregistered key", req: async () => ({ params: jwtParams(await clientAssertion({}, stranger)) }), error: assertionInvalid("signature") },
  { name: "an assertion whose iss ≠ sub", req: async () => ({ params: jwtParams(await clientAssertion({ sub: "secret-client" })) }), error: assertionInvalid("iss_sub") },
  { name: "an ID-JAG used as a client assertion", req: async () => ({ params: jwtParams(await clientAssertion({}, ec, "oauth-id-jag+jwt")) }), error: assertionInvalid("typ") },
  { name: "an assertion 61 s past its exp", req: async () => ({ params: jwtParams(await clientAssertion({ exp: NOW - 61 })) }), error: assertionInvalid("expired") },
  { name: "an assertion for another audience", req: async () => ({ params: jwtParams(await clientAssertion({ aud: "https://other.example" })) }), error: assertionInvalid("aud") },
  { name: "another client_assertion_type", req: async () => ({ params: { ...jwtParams(await clientAssertion()), client_assertion_type: "urn:x" } }), error: assertionInvalid("client_assertion_type") },
];

describe("authenticateClient: refused", () => {
  it.each(cases)("refuses $name", async ({ req, error }) => {
    expect(await authenticateClient(input(await req()))).toEqual({ ok: false, error });
  });

  it("looks no client up for a request refused before it names one", async () => {
    const early = cases.filter((c) => ["client_auth_missing", "client_auth_multiple_methods", "client_auth_malformed"].includes(c.error.reason));
    expect(early.length).toBeGreaterThan(10);
    for (const c of early) {
      lookups.length = 0;
      await authenticateClient(input(await c.req()));
      expect(lookups, c.name).toEqual([]);
    }
  });

  it("looks up the client an assertion names", async () => {
    lookups.length = 0;
    await authenticateClient(input({ params: jwtParams(await clientAssertion()) }));
    expect(lookups).toEqual(["jwt-client"]);
  });
});

describe("authenticateClient: no timing oracle on client existence", () => {
  it("hashes a secret for an unknown or disabled client as much as for a real one", async () => {
    const spy = vi.spyOn(crypto.subtle, "digest");
    const counts: Record<string, number> = {};
    const probes: Record<string, Req> = {
      known_wrong_secret: { params: { ...GRANT }, authorization: basic("secret-client", "guess") },
      known_in_rotation: { params: { ...GRANT }, authorization: basic("rotating", "guess") },
      unknown: { params: { ...GRANT }, authorization: basic("nobody", "guess") },
      disabled: { params: { ...GRANT }, authorization: basic("disabled", "guess") },
      method_not_allowed: { params: { ...GRANT, client_id: "basic-only", client_secret: "guess" } },
    };
    for (const [name, req] of Object.entries(probes)) {
      spy.mockClear();
      await authenticateClient(input(req));
      counts[name] = spy.mock.calls.length;
    }
    expect(counts.known_wrong_secret).toBeGreaterThan(0);
    expect(new Set(Object.values(counts)).size).toBe(1);
  });
});

describe("authenticateClient: a remembered secret check", () => {
  afterEach(() => forgetVerifiedSecretsForTests());

  it("still refuses a client disabled after its secret was checked", async () => {
    const record = { ...clients.get("secret-client")!, client_id: "flip" };
    clients.set("flip", record);
    const req = { params: { ...GRANT }, authorization: basic("flip", SECRET) };
    expect((await authenticateClient(input(req))).ok).toBe(true);
    clients.set("flip", { ...record, status: "disabled" });
    expect(await authenticateClient(input(req))).toEqual({ ok: false, error: { reason: "client_disabled" } });
    clients.delete("flip");
  });

  it("refuses a remembered secret once the record no longer lists it", async () => {
    const record = { ...clients.get("secret-client")!, client_id: "rotated" };
    clients.set("rotated", record);
    const req = { params: { ...GRANT }, authorization: basic("rotated", SECRET) };
    expect((await authenticateClient(input(req))).ok).toBe(true);
    clients.set("rotated", { ...record, client_secrets: [{ hash: await hashClientSecret(generateClientSecret()), created_at: iso(NOW) }] });
    expect(await authenticateClient(input(req))).toEqual({ ok: false, error: { reason: "client_secret_mismatch" } });
    clients.delete("rotated");
  });
});

describe("authenticateClient on arbitrary input", () => {
  it("returns a value or a client refusal, never throws", async () => {
    const reasons = new Set([
      "client_auth_missing", "client_auth_multiple_methods", "client_auth_malformed", "client_unknown", "client_disabled",
      "client_secret_mismatch", "client_auth_method_not_allowed", "client_assertion_invalid",
    ]);
    const names = fc.constantFrom("client_id", "client_secret", "client_assertion", "client_assertion_type", "other");
    const header = fc.option(
      fc.oneof(fc.string(), fc.string().map((s) => `Basic ${s}`), fc.string().map((s) => `Basic ${base64(s)}`)),
      { nil: null },
    );
    await fc.assert(
      fc.asyncProperty(fc.dictionary(names, fc.oneof(fc.string(), fc.constantFrom("secret-client", SECRET, JWT_BEARER_ASSERTION_TYPE))), header, async (params, authorization) => {
        const r = await authenticateClient(input({ params, authorization }));
        if (!r.ok) expect(reasons.has(r.error.reason)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
