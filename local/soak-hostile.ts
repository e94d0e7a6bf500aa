// Hostile requests to the token and introspection endpoints, each with its exact 4xx: malformed
// forms, wrong content type and method, oversized bodies (declared and streamed), bad client
// credentials, and ID-JAGs broken one way each (tampered, expired, wrong aud, untrusted issuer,
// unknown kid, rogue key, HMAC, …). A bad-secret request spends nothing: its ID-JAG is then redeemed.
import { SignJWT } from "jose";
import { GENERIC, exactJson, oauthError, type Check } from "./soak-check";
import { BASIC, JWT_BEARER, Traffic, chance, nowSeconds, pick } from "./soak-traffic";

type Case = { name: string; afterAuth: boolean; ownConnection?: boolean; run: (t: Traffic) => Promise<{ init: RequestInit; check: Check; url?: string }> };

const invalidRequest = (status: number, description: string) => oauthError(status, "invalid_request", description);
const grantRefused = (description: string = GENERIC.invalid_grant) => oauthError(400, "invalid_grant", description);
const otherSub = () => `00uhostile${crypto.randomUUID().slice(0, 10)}`;

/** A case that sends one assertion minted with `o`, expecting `check`. */
const assertionCase = (name: string, o: Parameters<Traffic["idp"]["mintIdJag"]>[0] | (() => Parameters<Traffic["idp"]["mintIdJag"]>[0]), check: Check, mutate?: (jag: string) => string): Case => ({
  name,
  afterAuth: true,
  run: async (t) => {
    const minted = await t.idp.mintIdJag(typeof o === "function" ? o() : o);
    const assertion = mutate ? mutate(minted.jag) : minted.jag;
    return { init: t.tokenRequest({ grant_type: JWT_BEARER, assertion }), check };
  },
});

const b64 = (text: string) => Buffer.from(text).toString("base64url");

export const TOKEN_CASES: Case[] = [
  { name: "content_type_json", afterAuth: false, run: async (t) => ({ init: t.tokenRequest({ grant_type: JWT_BEARER, assertion: "x" }, { contentType: "application/json" }), check: invalidRequest(400, "The body must be application/x-www-form-urlencoded.") }) },
  { name: "method_get", afterAuth: false, run: async () => ({ init: { method: "GET", headers: { authorization: BASIC } }, check: invalidRequest(405, "Use POST.") }) },
  { name: "body_33KiB", afterAuth: false, ownConnection: true, run: async (t) => ({ init: t.tokenRequest({ grant_type: JWT_BEARER, assertion: "a".repeat(33 * 1024) }), check: invalidRequest(413, "The request body is too large.") }) },
  {
    name: "body_streamed_48KiB",
    afterAuth: false,
    ownConnection: true,
    run: async () => {
      // No Content-Length: the cap must hold while reading.
      const chunk = new TextEncoder().encode("assertion=" + "b".repeat(8 * 1024));
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 6) controller.enqueue(chunk);
          else controller.close();
        },
      });
      const init = { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", authorization: BASIC }, body, duplex: "half" } as RequestInit;
      return { init, check: invalidRequest(413, "The request body is too large.") };
    },
  },
  { name: "body_not_utf8", afterAuth: false, run: async () => ({ init: { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", authorization: BASIC }, body: new Uint8Array([0x61, 0x3d, 0xff, 0xfe, 0xc3]) }, check: invalidRequest(400, "The form body could not be parsed.") }) },
  { name: "duplicate_parameter", afterAuth: false, run: async () => ({ init: { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", authorization: BASIC }, body: `grant_type=${encodeURIComponent(JWT_BEARER)}&grant_type=${encodeURIComponent(JWT_BEARER)}&assertion=x` }, check: invalidRequest(400, "A parameter was sent more than once.") }) },
  { name: "grant_type_missing", afterAuth: false, run: async (t) => ({ init: t.tokenRequest({ assertion: "x" }), check: invalidRequest(400, "grant_type is missing.") }) },
  { name: "grant_type_unsupported", afterAuth: false, run: async (t) => ({ init: t.tokenRequest({ grant_type: "authorization_code", code: "x" }), check: oauthError(400, "unsupported_grant_type", GENERIC.unsupported_grant_type) }) },
  { name: "assertion_missing", afterAuth: false, run: async (t) => ({ init: t.tokenRequest({ grant_type: JWT_BEARER }), check: invalidRequest(400, "assertion is missing.") }) },
  { name: "assertion_17KiB", afterAuth: false, run: async (t) => ({ init: t.tokenRequest({ grant_type: JWT_BEARER, assertion: "c".repeat(17 * 1024) }), check: invalidRequest(400, "assertion is too large.") }) },
  {
    name: "client_secret_wrong",
    afterAuth: false,
    run: async (t) => {
      const minted = await t.idp.mintIdJag({ sub: otherSub() });
      return { init: t.tokenRequest({ grant_type: JWT_BEARER, assertion: minted.jag }, { auth: `Basic ${Buffer.from("demo-client:not-the-secret").toString("base64")}` }), check: oauthError(401, "invalid_client", GENERIC.invalid_client) };
    },
  },
  {
    name: "client_unknown",
    afterAuth: false,
    run: async (t) => {
      const minted = await t.idp.mintIdJag({ sub: otherSub() });
      return { init: t.tokenRequest({ grant_type: JWT_BEARER, assertion: minted.jag }, { auth: `Basic ${Buffer.from("no-such-client:demo-secret").toString("base64")}` }), check: oauthError(401, "invalid_client", GENERIC.invalid_client) };
    },
  },
  { name: "client_auth_missing", afterAuth: false, run: async (t) => ({ init: t.tokenRequest({ grant_type: JWT_BEARER, assertion: "x.y.z" }, { auth: null }), check: oauthError(401, "invalid_client", GENERIC.invalid_client) }) },
  { name: "jws_garbage", afterAuth: true, run: async (t) => ({ init: t.tokenRequest({ grant_type: JWT_BEARER, assertion: `${b64("{not json")}.${b64("garbage")}.${b64("sig")}` }), check: grantRefused("The assertion is not a well-formed compact JWS.") }) },
  { name: "jws_two_parts", afterAuth: true, run: async (t) => ({ init: t.tokenRequest({ grant_type: JWT_BEARER, assertion: "abc.def" }), check: grantRefused("The assertion is not a well-formed compact JWS.") }) },
  assertionCase("typ_jwt", () => ({ sub: otherSub(), header: { typ: "JWT" } }), grantRefused("The assertion typ must be oauth-id-jag+jwt.")),
  {
    name: "alg_hs256",
    afterAuth: true,
    run: async (t) => {
      const now = nowSeconds();
      const jag = await new SignJWT({ iss: t.idp.issuer, sub: otherSub(), aud: t.stack.urls.as, client_id: "demo-client", iat: now, exp: now + 300, jti: crypto.randomUUID() })
        .setProtectedHeader({ alg: "HS256", typ: "oauth-id-jag+jwt" })
        .sign(new TextEncoder().encode("a-shared-secret-that-is-long-enough-0123456789"));
      return { init: t.tokenRequest({ grant_type: JWT_BEARER, assertion: jag }), check: grantRefused("The assertion alg is not allowed.") };
    },
  },
  assertionCase("expired", () => ({ sub: otherSub(), iat: nowSeconds() - 400 }), grantRefused("The assertion has expired.")),
  assertionCase("expired_untrusted_issuer", () => ({ sub: otherSub(), iat: nowSeconds() - 400, claims: { iss: "https://idp.evil.example" } }), grantRefused("The assertion has expired.")),
  assertionCase("iat_in_future", () => ({ sub: otherSub(), iat: nowSeconds() + 600 }), grantRefused("The assertion iat is in the future.")),
  assertionCase("aud_wrong", () => ({ sub: otherSub(), claims: { aud: "https://other-as.example" } }), grantRefused("The assertion audience is not this authorization server.")),
  assertionCase("aud_two", (() => ({ sub: otherSub(), claims: { aud: ["https://other-as.example", "x"] } })), grantRefused("The assertion must have exactly one audience.")),
  assertionCase("client_id_other", () => ({ sub: otherSub(), claims: { client_id: "another-client" } }), grantRefused("The assertion was issued to another client.")),
  assertionCase("lifetime_600s", () => ({ sub: otherSub(), lifetimeSeconds: 600 }), grantRefused("The assertion lifetime is too long.")),
  assertionCase("resource_unknown", () => ({ sub: otherSub(), claims: { resource: "https://mcp.unknown.example/mcp" } }), grantRefused("The assertion resource is not served by this authorization server.")),
  assertionCase("no_rule_group", () => ({ sub: otherSub(), claims: { groups: ["contractors"] } }), grantRefused("No policy rule grants access to this resource.")),
  assertionCase("cnf_present", () => ({ sub: otherSub(), claims: { cnf: { jkt: "abc" } } }), grantRefused("Sender-constrained assertions (cnf) are not supported.")),
  assertionCase("claim_missing_jti", () => ({ sub: otherSub(), claims: { jti: undefined } }), grantRefused("The assertion lacks a required claim.")),
  assertionCase("untrusted_issuer", () => ({ sub: otherSub(), claims: { iss: "https://idp.evil.example" } }), grantRefused()),
  assertionCase("kid_unknown", () => ({ sub: otherSub(), rogue: "unknown_kid" }), grantRefused()),
  assertionCase("rogue_key_same_kid", () => ({ sub: otherSub(), rogue: "same_kid" }), grantRefused()),
  assertionCase("payload_tampered", () => ({ sub: otherSub() }), grantRefused(), (jag) => {
    const [h, p, s] = jag.split(".");
    const claims = JSON.parse(Buffer.from(p!, "base64url").toString());
    claims.groups = ["engineering", "admins"];
    return `${h}.${b64(JSON.stringify(claims))}.${s}`;
  }),
  assertionCase("signature_truncated", () => ({ sub: otherSub(), alg: "ES256" }), grantRefused(), (jag) => jag.slice(0, -6)),
];

/** One hostile token request. A bad-secret case then redeems its (unspent) ID-JAG properly. */
export async function hostileToken(t: Traffic): Promise<void> {
  if (chance(0.12)) return refusedThenRedeemed(t);
  const c = pick(TOKEN_CASES);
  const { init, check } = await c.run(t);
  await t.tally.send(`hostile.token.${c.name}`, false, t.tokenUrl, init, check, c.afterAuth && t.throttleable, c.ownConnection);
}

/** A refused request spends nothing: the same ID-JAG, sent with the wrong secret then the right one. */
async function refusedThenRedeemed(t: Traffic): Promise<void> {
  const subject = t.liveSubject();
  await t.using(subject, async () => {
    const minted = await t.idp.mintIdJag({ sub: subject.sub });
    const bad = `Basic ${Buffer.from("demo-client:wrong-secret").toString("base64")}`;
    await t.tally.send("hostile.token.wrong_secret_first", false, t.tokenUrl, t.tokenRequest({ grant_type: JWT_BEARER, assertion: minted.jag }, { auth: bad }), oauthError(401, "invalid_client", GENERIC.invalid_client));
    await t.redeem("exchange.after_refused_attempt", subject, minted, t.tokenRequest({ grant_type: JWT_BEARER, assertion: minted.jag }), "notes.read notes.write", minted.iat - 30);
  });
}

/** Hostile introspection: bad secret, missing token, junk and foreign tokens (inactive, nothing more). */
export async function hostileIntrospect(t: Traffic): Promise<void> {
  const which = pick(["bad_secret", "token_missing", "junk_token", "id_jag_as_token", "get"] as const);
  const bad = `Basic ${Buffer.from("demo-client:wrong").toString("base64")}`;
  const inactive = exactJson(200, { active: false }, { "cache-control": "no-store" });
  const kind = `hostile.introspect.${which}`;
  switch (which) {
    case "bad_secret":
      return void (await t.tally.send(kind, false, t.introspectUrl, t.tokenRequestForToken("x.y.z", bad), oauthError(401, "invalid_client", GENERIC.invalid_client)));
    case "token_missing":
      return void (await t.tally.send(kind, false, t.introspectUrl, t.tokenRequest({ token_type_hint: "access_token" }), invalidRequest(400, "token is missing.")));
    case "junk_token":
      return void (await t.tally.send(kind, false, t.introspectUrl, t.tokenRequestForToken(`junk.${crypto.randomUUID()}.x`), inactive, t.throttleable));
    case "id_jag_as_token": {
      const minted = await t.idp.mintIdJag({ sub: `00uhostile${crypto.randomUUID().slice(0, 10)}` });
      return void (await t.tally.send(kind, false, t.introspectUrl, t.tokenRequestForToken(minted.jag), inactive, t.throttleable));
    }
    case "get":
      return void (await t.tally.send(kind, false, t.introspectUrl, { method: "GET" }, invalidRequest(405, "Use POST.")));
  }
}
