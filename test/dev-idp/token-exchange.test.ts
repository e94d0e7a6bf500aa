// POST /oauth2/token: ID token → ID-JAG (RFC 8693; spec notes §2.3, §3), and every refusal, each
// asserted with its status, error code and the description that names the broken rule.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import {
  aliceIdTokenClaims, basic, call, CLIENT_ID, CLIENT_SECRET, EMA_EDGE, exchange, exchangeParams, holdKey, idpKeys, ISSUER, login, nowSeconds, RESOURCE, type HeldKey,
} from "./support/dev-idp";

const kv = (env as unknown as { IDP_STATE: KVNamespace }).IDP_STATE;
const ID_JAG_TYPE = "urn:ietf:params:oauth:token-type:id-jag";

async function expectRefusal(res: Response, status: number, error: string, description?: string) {
  const body = await res.json<{ error: string; error_description: string }>();
  expect({ status: res.status, error: body.error }).toEqual({ status, error });
  if (description !== undefined) expect(body.error_description).toBe(description);
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(body).not.toHaveProperty("access_token");
}

async function withState(name: string, state: Record<string, unknown>, run: () => Promise<void>) {
  await kv.put(`user:v1:${name}`, JSON.stringify({ active: true, removedGroups: [], sessionsClearedAt: null, ...state }));
  try {
    await run();
  } finally {
    await kv.delete(`user:v1:${name}`);
  }
}

describe("a successful exchange", () => {
  it("returns an ID-JAG with the RFC 8693 response fields", async () => {
    const idToken = await login("alice");
    const res = await exchange(exchangeParams(idToken, { scope: "notes.read notes.write" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = await res.json<Record<string, unknown>>();
    expect(body).toEqual({ access_token: expect.any(String), issued_token_type: ID_JAG_TYPE, token_type: "N_A", expires_in: 300, scope: "notes.read notes.write", resource: RESOURCE });
  });

  it("signs the ID-JAG with the IdP key, typ oauth-id-jag+jwt, and every claim ema-edge reads", async () => {
    const idToken = await login("alice");
    const { auth_time } = decodeJwt(idToken);
    const res = await exchange(exchangeParams(idToken, { scope: "notes.read  notes.write notes.read" }));
    const { access_token } = await res.json<{ access_token: string }>();
    const { payload, protectedHeader } = await jwtVerify(access_token, await idpKeys(), { issuer: ISSUER, audience: EMA_EDGE, typ: "oauth-id-jag+jwt" });
    expect(protectedHeader).toMatchObject({ alg: "RS256", kid: expect.any(String) });
    expect(payload).toMatchObject({
      iss: ISSUER,
      sub: "00ualiceDEVIDP000001",
      aud: EMA_EDGE,
      client_id: CLIENT_ID,
      resource: RESOURCE,
      scope: "notes.read notes.write",
      groups: ["engineering"],
      email: "alice@example.com",
      auth_time,
      amr: ["pwd", "mfa"],
    });
    expect(payload.exp).toBe(payload.iat! + 300);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("draws a fresh jti for every ID-JAG (ema-edge redeems each once)", async () => {
    const idToken = await login("bob");
    const jtis = new Set<unknown>();
    for (let i = 0; i < 3; i++) {
      const { access_token } = await (await exchange(exchangeParams(idToken))).json<{ access_token: string }>();
      jtis.add(decodeJwt(access_token).jti);
    }
    expect(jtis.size).toBe(3);
  });

  it("accepts client_secret_basic, with or without a matching client_id in the body", async () => {
    const idToken = await login("bob");
    const auth = { authorization: basic(CLIENT_ID, CLIENT_SECRET) };
    expect((await exchange(exchangeParams(idToken, { client_id: undefined, client_secret: undefined }), auth)).status).toBe(200);
    expect((await exchange(exchangeParams(idToken, { client_secret: undefined }), auth)).status).toBe(200);
  });

  it("omits scope and resource when the request has none", async () => {
    const idToken = await login("bob");
    const res = await exchange(exchangeParams(idToken, { resource: undefined }));
    const body = await res.json<Record<string, unknown>>();
    expect(body).not.toHaveProperty("scope");
    expect(body).not.toHaveProperty("resource");
    const claims = decodeJwt(body.access_token as string);
    expect(claims).not.toHaveProperty("scope");
    expect(claims).not.toHaveProperty("resource");
  });

  it("mints for carol, who is in no group: refusing her is ema-edge's policy, not the IdP's", async () => {
    const res = await exchange(exchangeParams(await login("carol"), { scope: "notes.read" }));
    expect(res.status).toBe(200);
    expect(decodeJwt((await res.json<{ access_token: string }>()).access_token)).toMatchObject({ sub: "00ucarolDEVIDP000003", groups: [], amr: ["pwd"] });
  });

  it("puts the groups the user has now, not those in the ID token", async () => {
    const idToken = await login("alice");
    await withState("alice", { removedGroups: ["engineering"] }, async () => {
      const res = await exchange(exchangeParams(idToken));
      expect(decodeJwt((await res.json<{ access_token: string }>()).access_token).groups).toEqual([]);
    });
  });
});

describe("refusals of the request", () => {
  let idToken: string;
  beforeAll(async () => {
    idToken = await login("alice");
  });
  const generic = "Client authentication failed.";

  it.each([
    ["a wrong client secret (post)", { client_secret: "wrong" }, {}, 401, "invalid_client", generic],
    ["an unknown client", { client_id: "nobody", client_secret: CLIENT_SECRET }, {}, 401, "invalid_client", generic],
    ["no client secret (public clients are not supported)", { client_secret: undefined }, {}, 401, "invalid_client", generic],
    ["a wrong client secret (basic)", { client_id: undefined, client_secret: undefined }, { authorization: basic(CLIENT_ID, "wrong") }, 401, "invalid_client", generic],
    ["a malformed Basic header", { client_id: undefined, client_secret: undefined }, { authorization: "Basic !!!" }, 401, "invalid_client", generic],
    ["a body client_id that is not the Basic one", { client_id: "other", client_secret: undefined }, { authorization: basic(CLIENT_ID, CLIENT_SECRET) }, 401, "invalid_client", generic],
    ["two client authentication methods", {}, { authorization: basic(CLIENT_ID, CLIENT_SECRET) }, 400, "invalid_request", "Use exactly one client authentication method."],
    ["an audience other than ema-edge", { audience: "https://other-as.example" }, {}, 400, "invalid_target", undefined],
    ["ema-edge's issuer with a trailing slash added", { audience: `${EMA_EDGE}/` }, {}, 400, "invalid_target", undefined],
    ["no audience", { audience: undefined }, {}, 400, "invalid_request", "audience is missing."],
    ["the jwt-bearer grant", { grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer" }, {}, 400, "unsupported_grant_type", undefined],
    ["no grant_type", { grant_type: undefined }, {}, 400, "invalid_request", "grant_type is missing."],
    ["requested_token_type access_token", { requested_token_type: "urn:ietf:params:oauth:token-type:access_token" }, {}, 400, "invalid_request", undefined],
    ["no requested_token_type", { requested_token_type: undefined }, {}, 400, "invalid_request", undefined],
    ["subject_token_type saml2", { subject_token_type: "urn:ietf:params:oauth:token-type:saml2" }, {}, 400, "invalid_request", undefined],
    ["no subject_token", { subject_token: undefined }, {}, 400, "invalid_request", "subject_token is missing."],
    ["an actor_token", { actor_token: "x", actor_token_type: "urn:ietf:params:oauth:token-type:id_token" }, {}, 400, "invalid_request", "actor_token is not supported."],
    ["resource \"undefined\" (what the SDK sends without one)", { resource: "undefined" }, {}, 400, "invalid_target", undefined],
    ["a resource with a fragment", { resource: `${RESOURCE}#x` }, {}, 400, "invalid_target", undefined],
    ["a malformed scope", { scope: 'notes."read' }, {}, 400, "invalid_scope", undefined],
  ])("refuses %s", async (_name, changes, headers, status, error, description) => {
    const res = await exchange(exchangeParams(idToken, changes as Record<string, string | undefined>), headers);
    await expectRefusal(res, status, error, description);
    if (status === 401) expect(res.headers.get("www-authenticate")).toMatch(/^Basic /);
  });

  it("refuses a JSON body", async () => {
    const res = await call("/oauth2/token", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(exchangeParams(idToken)) });
    await expectRefusal(res, 400, "invalid_request", "The body must be application/x-www-form-urlencoded.");
  });

  it("refuses a body over 16 KiB, declared or streamed, and accepts one at the limit", async () => {
    const base = new URLSearchParams(exchangeParams(idToken)).toString() + "&pad=";
    const atLimit = base + "x".repeat(16 * 1024 - base.length);
    const headers = { "content-type": "application/x-www-form-urlencoded" };
    expect((await call("/oauth2/token", { method: "POST", headers, body: atLimit })).status).toBe(200);
    await expectRefusal(await call("/oauth2/token", { method: "POST", headers, body: atLimit + "x" }), 413, "invalid_request");
    const stream = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(atLimit + "x")), c.close()) });
    await expectRefusal(await call("/oauth2/token", { method: "POST", headers, body: stream }), 413, "invalid_request");
  });

  it("refuses a declared Content-Length over 16 KiB without reading the body", async () => {
    // A body that never ends: only the declared length can stop the request in time.
    const body = new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode("grant_type=")) });
    const headers = { "content-type": "application/x-www-form-urlencoded", "content-length": String(16 * 1024 + 1) };
    const res = await Promise.race([call("/oauth2/token", { method: "POST", headers, body }), new Promise<null>((r) => setTimeout(() => r(null), 2000))]);
    expect(res).not.toBeNull();
    await expectRefusal(res!, 413, "invalid_request");
  });

  it("refuses a parameter sent twice", async () => {
    const body = new URLSearchParams(exchangeParams(idToken)).toString() + `&audience=${encodeURIComponent(EMA_EDGE)}`;
    const res = await call("/oauth2/token", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });
    await expectRefusal(res, 400, "invalid_request", "A parameter was sent more than once.");
  });

  it("refuses GET with 405", async () => {
    const res = await call("/oauth2/token");
    await expectRefusal(res, 405, "invalid_request");
  });
});

describe("refusals of the subject token", () => {
  // A key the test holds, installed as the IdP's: tokens it signs are the IdP's own, so each claim can be broken alone.
  let held: HeldKey;
  beforeAll(async () => {
    held = await holdKey();
  });
  const refuseWith = async (token: string, description: string) => expectRefusal(await exchange(exchangeParams(token), {}, held.env), 400, "invalid_grant", description);

  it("accepts a token the held key signs with valid claims (the baseline the cases below break)", async () => {
    expect((await exchange(exchangeParams(await held.sign(aliceIdTokenClaims())), {}, held.env)).status).toBe(200);
  });

  it("refuses a token from another IdP's key (another kid)", async () => {
    const other = await holdKey();
    await refuseWith(await other.sign(aliceIdTokenClaims()), "subject_token was not signed with this IdP's key.");
  });

  it("refuses a token signed by another key under the IdP's kid", async () => {
    const impostor = await holdKey(held.kid);
    await refuseWith(await impostor.sign(aliceIdTokenClaims()), "subject_token signature is invalid.");
  });

  it("refuses a real ID token whose payload was changed", async () => {
    const token = await held.sign(aliceIdTokenClaims());
    const [h, p, s] = token.split(".");
    const changed = btoa(JSON.stringify({ ...JSON.parse(atob(p!.replace(/-/g, "+").replace(/_/g, "/"))), sub: "00ubobDEVIDP00000002" })).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    await refuseWith(`${h}.${changed}.${s}`, "subject_token signature is invalid.");
  });

  it("refuses an expired token (exp = now) and accepts one expiring next second", async () => {
    const now = nowSeconds();
    await refuseWith(await held.sign({ ...aliceIdTokenClaims(now - 3600), exp: now }), "subject_token has expired.");
    expect((await exchange(exchangeParams(await held.sign({ ...aliceIdTokenClaims(now - 3600), exp: now + 2 })), {}, held.env)).status).toBe(200);
  });

  it.each([
    ["issued in the future", { iat: nowSeconds() + 30 }, "subject_token was issued in the future."],
    ["from another issuer", { iss: "http://localhost:9999" }, "subject_token was not issued by this IdP."],
    ["issued to another client", { aud: "other-client" }, "subject_token was not issued to the authenticated client."],
    ["with two audiences", { aud: [CLIENT_ID, "other-client"] }, "subject_token was not issued to the authenticated client."],
    ["without sub", { sub: undefined }, "subject_token lacks a valid sub, iat or exp."],
    ["without exp", { exp: undefined }, "subject_token lacks a valid sub, iat or exp."],
    ["with a string auth_time", { auth_time: "yesterday" }, "subject_token lacks a valid sub, iat or exp."],
    ["naming no user of this IdP", { sub: "00uNOBODY00000000000" }, "subject_token names no user of this IdP."],
  ])("refuses a token %s", async (_name, change, description) => {
    const claims: Record<string, unknown> = { ...aliceIdTokenClaims(), ...change };
    for (const [k, v] of Object.entries(change)) if (v === undefined) delete claims[k];
    await refuseWith(await held.sign(claims), description);
  });

  it.each([["at+jwt"], ["oauth-id-jag+jwt"], ["secevent+jwt"]])("refuses a token of typ %s", async (typ) => {
    await refuseWith(await held.sign(aliceIdTokenClaims(), { typ }), "subject_token is not an ID token (typ).");
  });

  it("refuses the IdP's own ID-JAG presented as a subject token", async () => {
    const idToken = await held.sign(aliceIdTokenClaims());
    const { access_token } = await (await exchange(exchangeParams(idToken), {}, held.env)).json<{ access_token: string }>();
    expect(decodeProtectedHeader(access_token).typ).toBe("oauth-id-jag+jwt");
    await refuseWith(access_token, "subject_token is not an ID token (typ).");
  });

  it("refuses something that is not a JWS", async () => {
    await refuseWith("not-a-token", "subject_token is not a compact JWS.");
  });
});

describe("refusals from the user's state", () => {
  it("refuses a deactivated user's ID token", async () => {
    const idToken = await login("bob");
    await withState("bob", { active: false }, async () => {
      await expectRefusal(await exchange(exchangeParams(idToken)), 400, "invalid_grant", "The user is deactivated.");
    });
  });

  it("refuses a login at or before a session clear, and accepts one after it", async () => {
    const idToken = await login("carol");
    const authTime = decodeJwt(idToken).auth_time as number;
    await withState("carol", { sessionsClearedAt: authTime }, async () => {
      await expectRefusal(await exchange(exchangeParams(idToken)), 400, "invalid_grant", "The user's sessions were cleared after this login; log in again.");
    });
    await withState("carol", { sessionsClearedAt: authTime - 1 }, async () => {
      expect((await exchange(exchangeParams(idToken))).status).toBe(200);
    });
  });
});
