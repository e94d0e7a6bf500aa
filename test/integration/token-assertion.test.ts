// Spec notes §11 "Structure and header", "Issuer and signature" and "Wrong token kinds presented as
// the assertion", end to end with a real signing IdP served over loopback.
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { encodeBase64Url } from "../../workers/lib/base64url";
import { createTestIdp, makeKey } from "../support/test-idp";
import { captureAudit, expectRefusal, ISSUER, JWT_BEARER, setupWorld, type World } from "../support/world";

let world: World;
let audit: Map<string, Record<string, any>>;
beforeAll(async () => {
  world = await setupWorld();
  audit = captureAudit();
});

const b64 = (value: unknown) => encodeBase64Url(new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value)));
const redeem = (assertion: string) => world.exchange({ grant_type: JWT_BEARER, assertion });
const header = (extra: Record<string, unknown> = {}) => ({ alg: "RS256", kid: "rsa-1", typ: "oauth-id-jag+jwt", ...extra });

describe("structure", () => {
  it.each([
    { name: "two segments", token: () => `${b64(header())}.${b64(world.claims())}`, reason: "jws_malformed" },
    { name: "four segments", token: () => `${b64(header())}.${b64(world.claims())}.c2ln.eHg`, reason: "jws_malformed" },
    { name: "a five-segment JWE", token: () => "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d", reason: "jwe_unsupported" },
    { name: "bad base64url in the header", token: () => `e*J.${b64(world.claims())}.c2ln`, reason: "jws_malformed" },
    { name: "a header that is not JSON", token: () => `${b64("{alg:RS256")}.${b64(world.claims())}.c2ln`, reason: "jws_malformed" },
    { name: "a payload that is a JSON array", token: () => `${b64(header())}.${b64([1])}.c2ln`, reason: "jws_malformed" },
    { name: "an empty signature", token: () => `${b64(header())}.${b64(world.claims())}.`, reason: "jws_malformed" },
    { name: "a duplicate member in the header", token: () => `${b64('{"alg":"RS256","typ":"oauth-id-jag+jwt","typ":"JWT"}')}.${b64(world.claims())}.c2ln`, reason: "duplicate_json_member" },
    { name: "a duplicate member in the payload", token: () => `${b64(header())}.${b64(JSON.stringify(world.claims()).replace(/^\{/, '{"sub":"mallory",'))}.c2ln`, reason: "duplicate_json_member" },
    { name: "a SAML assertion", token: () => btoa("<saml:Assertion xmlns:saml='urn:oasis:names:tc:SAML:2.0:assertion'/>"), reason: "jws_malformed" },
  ])("refuses $name", async ({ token, reason }) => {
    await expectRefusal(await redeem(token()), audit, { error: "invalid_grant", reason });
  });
});

describe("header", () => {
  it.each([
    { name: "no typ", typ: undefined },
    { name: "typ JWT (an ID token)", typ: "JWT" },
    { name: "typ at+jwt (an access token)", typ: "at+jwt" },
    { name: "typ oauth-id-jag without +jwt", typ: "oauth-id-jag" },
    { name: "typ with junk around it", typ: "xoauth-id-jag+jwt" },
    { name: "typ application/jwt", typ: "application/jwt" },
  ])("refuses $name", async ({ typ }) => {
    const token = await world.assertion({}, { header: { typ } });
    const body = await expectRefusal(await redeem(token), audit, { error: "invalid_grant", reason: "typ_invalid" });
    expect(body.error_description).toMatch(/typ/);
  });

  it.each(["none", "None", "NONE"])("refuses alg %s even with a signature present", async (alg) => {
    const token = `${b64({ alg, typ: "oauth-id-jag+jwt" })}.${b64(world.claims())}.c2ln`;
    await expectRefusal(await redeem(token), audit, { error: "invalid_grant", reason: "alg_not_allowed" });
  });

  it("refuses HS256 keyed with the IdP's public key (key confusion)", async () => {
    const secret = new TextEncoder().encode(JSON.stringify(world.idp.keys[0]!.publicJwk));
    const token = await new SignJWT(world.claims()).setProtectedHeader({ alg: "HS256", typ: "oauth-id-jag+jwt", kid: "rsa-1" }).sign(secret);
    await expectRefusal(await redeem(token), audit, { error: "invalid_grant", reason: "alg_not_allowed" });
  });

  it("refuses an algorithm valid elsewhere but not in this issuer's allow-list, in generic words", async () => {
    await world.writePolicy({ ...world.policy, issuers: world.policy.issuers.map((i) => (i.id === "test-idp" ? { ...i, algorithms: ["RS256"] } : i)) });
    try {
      const token = await world.assertion({}, { key: world.idp.keys[1] }); // ES256
      const body = await expectRefusal(await redeem(token), audit, { error: "invalid_grant", reason: "alg_not_allowed_for_issuer" });
      expect(body.error_description).toBe("The assertion is not acceptable.");
    } finally {
      await world.writePolicy({ ...world.policy, issuers: world.policy.issuers.map(({ algorithms: _, ...i }) => i) });
    }
  });

  it("refuses any crit header", async () => {
    const token = `${b64(header({ crit: ["exp"], exp: 1 }))}.${b64(world.claims())}.c2ln`;
    await expectRefusal(await redeem(token), audit, { error: "invalid_grant", reason: "crit_unsupported" });
  });

  it("ignores jku, x5u and jwk headers that point at an attacker's keys, and never fetches them", async () => {
    const attacker = await createTestIdp();
    const key = attacker.keys[0]!;
    const token = await world.idp.sign(world.claims(), {
      key: { ...key, kid: "rsa-1" },
      header: { kid: "rsa-1", jku: attacker.jwksUri, x5u: attacker.jwksUri, jwk: key.publicJwk },
    });
    await expectRefusal(await redeem(token), audit, { error: "invalid_grant", reason: "signature_invalid" });
    expect((await attacker.stats()).jwksFetches).toBe(0);
  });

  it("refuses a kid the issuer never published, after at most one refetch", async () => {
    const before = (await world.idp.stats()).jwksFetches;
    for (let i = 0; i < 5; i++) {
      const token = await world.assertion({}, { header: { kid: `random-${i}` } });
      await expectRefusal(await redeem(token), audit, { error: "invalid_grant", reason: "kid_unknown" });
    }
    expect((await world.idp.stats()).jwksFetches - before).toBeLessThanOrEqual(1);
  });

  it("ignores a malformed key in the IdP's JWKS and keeps verifying with the others", async () => {
    const idp = await createTestIdp();
    const broken = await makeKey("RS256", "broken");
    await idp.publish([{ ...broken, publicJwk: { ...broken.publicJwk, key_ops: 5 as never } }, idp.keys[0]!]);
    await world.trust(idp, "malformed-jwks");
    const good = await idp.sign(world.claims({ iss: idp.issuer }), { key: idp.keys[1] }); // rsa-1, same key type as the broken one
    expect((await redeem(good)).status).toBe(200);
  });

  it("refuses an assertion without kid when several keys could verify it", async () => {
    const idp = await createTestIdp();
    const second = await makeKey("RS256", "rsa-2");
    await idp.publish([...idp.keys, second]);
    await world.trust(idp, "multi-key");
    const token = await idp.sign(world.claims({ iss: idp.issuer }), { header: { kid: undefined } });
    await expectRefusal(await redeem(token), audit, { error: "invalid_grant", reason: "key_ambiguous" });
    const single = await world.assertion({}, { key: world.idp.keys[1], header: { kid: undefined } }); // the only EC key
    expect((await redeem(single)).status).toBe(200);
  });
});

describe("issuer and signature", () => {
  const variants = () => {
    const iss = world.idp.issuer;
    return [
      { name: "an unknown issuer", iss: "https://evil.example" },
      { name: "the issuer with a trailing slash", iss: `${iss}/` },
      { name: "the issuer over https instead of http", iss: iss.replace("http://", "https://") },
      { name: "the issuer in upper case", iss: iss.toUpperCase() },
    ];
  };
  it("refuses an untrusted or not-exactly-equal issuer, generically and without fetching anything", async () => {
    const before = await world.idp.stats();
    for (const { iss } of variants()) {
      const token = await world.idp.sign(world.claims({ iss }));
      const body = await expectRefusal(await redeem(token), audit, { error: "invalid_grant", reason: "issuer_not_trusted" });
      expect(body.error_description).toBe("The assertion is not acceptable.");
    }
    expect(await world.idp.stats()).toEqual(before);
  });

  it("refuses an assertion for a trusted issuer signed with another trusted issuer's key", async () => {
    const token = await world.otherIdp.sign(world.claims({ iss: world.idp.issuer }), { key: world.otherIdp.keys[0] });
    await expectRefusal(await redeem(token), audit, { error: "invalid_grant", reason: "signature_invalid" });
  });

  it("refuses a one-bit change to the signed payload", async () => {
    const [h, p, s] = (await world.assertion({ sub: "alice" })).split(".") as [string, string, string];
    const payload = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(p.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0))));
    const tampered = `${h}.${b64({ ...payload, sub: "alicf" })}.${s}`;
    await expectRefusal(await redeem(tampered), audit, { error: "invalid_grant", reason: "signature_invalid" });
  });

  it("follows an IdP key rotation: a new kid verifies after refresh, a removed key no longer does", async () => {
    const idp = await createTestIdp();
    await world.trust(idp, "rotating");
    const old = idp.keys[0]!;
    expect((await redeem(await idp.sign(world.claims({ iss: idp.issuer }), { key: old }))).status).toBe(200);
    const next = await makeKey("RS256", "rsa-next");
    await idp.publish([next]);
    // Past the 30 s refetch cool-down that began with the first fetch (the Worker shares this clock).
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 31_000 });
    try {
      expect((await redeem(await idp.sign(world.claims({ iss: idp.issuer }), { key: next }))).status).toBe(200);
      await expectRefusal(await redeem(await idp.sign(world.claims({ iss: idp.issuer }), { key: old })), audit, { error: "invalid_grant", reason: "kid_unknown" });
    } finally {
      vi.useRealTimers();
    }
  });

  it("fails closed with 503 when the JWKS endpoint is down and nothing is cached", async () => {
    const idp = await createTestIdp();
    await idp.setMode("status_500");
    await world.trust(idp, "down");
    const res = await redeem(await idp.sign(world.claims({ iss: idp.issuer })));
    await expectRefusal(res, audit, { status: 503, error: "temporarily_unavailable", reason: "jwks_unavailable" });
    expect(res.headers.get("retry-after")).toBeTruthy();
  });

  it("refuses a wrong or missing tenant for a tenant-pinned issuer, and keeps tenants apart", async () => {
    const idp = await createTestIdp();
    await world.trust(idp, "tenant-a", { issuer: { tenant: "a" }, scopes: ["read"] });
    await world.trust(idp, "tenant-b", { issuer: { tenant: "b" }, scopes: ["write"] });
    const sign = (tenant?: string) => idp.sign(world.claims({ iss: idp.issuer, tenant, sub: "same-sub" }));
    await expectRefusal(await redeem(await sign("c")), audit, { error: "invalid_grant", reason: "tenant_mismatch" });
    await expectRefusal(await redeem(await sign(undefined)), audit, { error: "invalid_grant", reason: "tenant_mismatch" });
    const a = await (await redeem(await sign("a"))).json<{ scope: string; access_token: string }>();
    const b = await (await redeem(await sign("b"))).json<{ scope: string; access_token: string }>();
    expect([a.scope, b.scope]).toEqual(["read", "write"]);
    // The same sub under two tenants is two users: the tokens say which tenant (MCP servers key by idp, tenant, sub).
    const tenantOf = (t: string) => JSON.parse(atob(t.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))).tenant;
    expect([tenantOf(a.access_token), tenantOf(b.access_token)]).toEqual(["a", "b"]);
  });
});

describe("wrong token kinds presented as the assertion", () => {
  it("refuses an IdP ID token (typ JWT, aud = the client)", async () => {
    const token = await world.idp.sign({ ...world.claims(), aud: "client-basic" }, { header: { typ: "JWT" } });
    await expectRefusal(await redeem(token), audit, { error: "invalid_grant", reason: "typ_invalid" });
  });

  it("refuses an IdP access token (typ at+jwt, aud = an API)", async () => {
    const token = await world.idp.sign({ ...world.claims(), aud: "api://default", scp: ["read"] }, { header: { typ: "at+jwt" } });
    await expectRefusal(await redeem(token), audit, { error: "invalid_grant", reason: "typ_invalid" });
  });

  it("refuses our own access token", async () => {
    const res = await redeem(await world.assertion());
    const { access_token } = await res.json<{ access_token: string }>();
    await expectRefusal(await redeem(access_token), audit, { error: "invalid_grant", reason: "typ_invalid" });
  });

  it("refuses an ID-JAG whose issuer is this authorization server itself", async () => {
    const token = await world.idp.sign(world.claims({ iss: ISSUER }));
    await expectRefusal(await redeem(token), audit, { error: "invalid_grant", reason: "issuer_is_self" });
  });
});
