// Revocation traffic: acknowledged revocations of idle soak subjects through the Okta Event Hook
// (204) and SSF (202), forged and unauthenticated deliveries aimed at the sentinels (each refused
// with its exact answer, or accepted-and-ignored), rechecks of revoked subjects during the run,
// and the final check that every acknowledged revocation is in force and mirrored to KV.
import { subjectMirrorKey, type SubjectRevocationRecord } from "../workers/lib/revocation-mirror";
import { emptyBody, exactJson, oauthError, setError, webhookError } from "./soak-check";
import { oktaDelivery, revokingSet, SOAK_HOOK_SECRET, SOAK_IDP_ID, type SoakIdp } from "./soak-idp";
import { JWT_BEARER, Traffic, chance, introspection, nowSeconds, pick, type Revocation, type Subject } from "./soak-traffic";

/** The SSF receiver's RFC 8935 descriptions (set-errors.ts), written out. */
const SET_TEXT = {
  invalid_key: "The key used to sign the SET is invalid or unacceptable.",
  invalid_audience: "The SET audience does not include this receiver.",
  invalid_issuer: "The SET issuer is not the transmitter configured for this stream.",
  not_jws: "The body is not a compact JWS.",
  content_type: "Content-Type must be application/secevent+jwt.",
  foreign: "The subject belongs to an issuer this stream does not speak for.",
  sub_exp: "SSF 1.0 SETs must not carry sub or exp.",
};
const REVOKED = "Access for this subject has been revoked.";
/** A spare ID-JAG still this far from expiry can show the revocation at exchange. */
const SPARE_MARGIN_SECONDS = 10;

const hookUrl = (t: Traffic, id = SOAK_IDP_ID) => `${t.stack.urls.as}/hooks/okta/${id}`;
const ssfUrl = (t: Traffic, id = SOAK_IDP_ID) => `${t.stack.urls.as}/ssf/${id}`;
const okta = (body: string, secret: string | null, contentType = "application/json"): RequestInit => ({
  method: "POST",
  headers: { "content-type": contentType, accept: "application/json", ...(secret !== null && { authorization: secret }) },
  body,
});
const set = (body: string, contentType = "application/secevent+jwt"): RequestInit => ({ method: "POST", headers: { "content-type": contentType, accept: "application/json" }, body });

/**
 * Revokes 1–3 (Okta) or 1 (SSF) idle live subjects that hold a token. Each gets a spare ID-JAG
 * first; the event time is taken after it and after every token, so both must be refused later.
 */
export async function revoke(t: Traffic, channel: "okta_event_hook" | "ssf"): Promise<void> {
  const idle = t.subjects.filter((s) => s.state === "live" && s.inflight === 0 && s.tokens.length > 0);
  if (idle.length === 0) return t.exchange();
  const count = channel === "ssf" ? 1 : Math.min(idle.length, 1 + Math.floor(Math.random() * 3));
  const chosen: Subject[] = [];
  for (let i = 0; i < count; i++) chosen.push(...idle.splice(Math.floor(Math.random() * idle.length), 1));
  for (const s of chosen) s.state = "revoking";
  const spares = await Promise.all(chosen.map((s) => t.idp.mintIdJag({ sub: s.sub })));
  const published = new Date();
  const eventTime = Math.floor(published.getTime() / 1000);
  const got =
    channel === "okta_event_hook"
      ? await t.tally.send("revoke.okta_event_hook", true, hookUrl(t), okta(JSON.stringify(oktaDelivery(chosen.map((s) => s.sub), published)), SOAK_HOOK_SECRET), emptyBody(204))
      : await t.tally.send("revoke.ssf", true, ssfUrl(t), set(await t.idp.signSet(revokingSet(t.idp.issuer, t.stack.urls.as, chosen[0]!.sub, eventTime))), emptyBody(202));
  const acked = got !== undefined && got.status === (channel === "ssf" ? 202 : 204) && got.text === "";
  chosen.forEach((s, i) => {
    s.state = acked ? "revoked" : "lost";
    if (acked) t.revocations.push({ subject: s, channel, eventTime, ackedAt: nowSeconds(), spare: { jag: spares[i]!.jag, iat: spares[i]!.iat, exp: spares[i]!.exp } });
  });
}

/** Okta deliveries that must store nothing: forged, unauthenticated, malformed, or not revoking. */
export async function forgedOkta(t: Traffic): Promise<void> {
  const sentinel = pick(t.sentinels);
  const delivery = () => JSON.stringify(oktaDelivery([sentinel.sub], new Date()));
  const which = pick(["wrong_secret", "no_secret", "other_issuers_secret", "unknown_issuer", "not_json", "envelope_type", "failed_event", "restore_event", "wrong_content_type", "body_300KiB"] as const);
  const kind = `forged.okta.${which}`;
  const send = (init: RequestInit, check: Parameters<typeof t.tally.send>[4], url = hookUrl(t)) => t.tally.send(kind, false, url, init, check);
  switch (which) {
    case "wrong_secret":
      return void (await send(okta(delivery(), `forged-${crypto.randomUUID()}`), webhookError(401, "unauthorized")));
    case "no_secret":
      return void (await send(okta(delivery(), null), webhookError(401, "unauthorized")));
    case "other_issuers_secret": // the dev IdP's hook secret is good for /hooks/okta/dev-idp only
      return void (await send(okta(delivery(), "dev-okta-hook-secret"), webhookError(401, "unauthorized")));
    case "unknown_issuer":
      return void (await send(okta(delivery(), SOAK_HOOK_SECRET), webhookError(404, "not_found"), hookUrl(t, "no-such-idp")));
    case "not_json":
      return void (await send(okta("{\"eventType\": ", SOAK_HOOK_SECRET), webhookError(400, "body_not_json")));
    case "envelope_type": {
      const body = JSON.parse(delivery());
      body.eventType = "com.example.other";
      return void (await send(okta(JSON.stringify(body), SOAK_HOOK_SECRET), webhookError(400, "envelope_type_invalid")));
    }
    case "failed_event": {
      // Authenticated, but the admin's action failed at the IdP: acknowledged, nothing revoked.
      const body = JSON.parse(delivery());
      body.data.events[0].outcome = { result: "FAILURE", reason: "denied" };
      return void (await send(okta(JSON.stringify(body), SOAK_HOOK_SECRET), emptyBody(204)));
    }
    case "restore_event": {
      const body = JSON.parse(delivery());
      body.data.events[0].eventType = "user.lifecycle.activate";
      return void (await send(okta(JSON.stringify(body), SOAK_HOOK_SECRET), emptyBody(204)));
    }
    case "wrong_content_type":
      return void (await send(okta(delivery(), `forged-${crypto.randomUUID()}`, "text/plain"), webhookError(415, "unsupported_content_type")));
    case "body_300KiB": {
      if (!chance(0.3)) return void (await send(okta(delivery(), `forged-${crypto.randomUUID()}`), webhookError(401, "unauthorized")));
      const body = JSON.parse(delivery());
      body.padding = "p".repeat(300 * 1024);
      return void (await t.tally.send(kind, false, hookUrl(t), okta(JSON.stringify(body), SOAK_HOOK_SECRET), webhookError(413, "body_too_large"), false, true));
    }
  }
}

/** SETs that must store nothing: wrong keys, audience, issuer, shape; a foreign subject; a restore. */
export async function forgedSsf(t: Traffic): Promise<void> {
  const sentinel = pick(t.sentinels);
  const now = nowSeconds();
  const claims = (overrides: Record<string, unknown> = {}) => revokingSet(t.idp.issuer, t.stack.urls.as, sentinel.sub, now, overrides);
  const which = pick(["rogue_key_same_kid", "rogue_kid", "aud_wrong", "iss_wrong", "garbage", "content_type", "foreign_subject", "sub_claim", "restore_event", "unknown_stream"] as const);
  const kind = `forged.ssf.${which}`;
  const send = async (body: string | Promise<string>, check: Parameters<typeof t.tally.send>[4], contentType?: string, url = ssfUrl(t)) => void (await t.tally.send(kind, false, url, set(await body, contentType), check));
  switch (which) {
    case "rogue_key_same_kid":
      return send(t.idp.signSet(claims(), { rogue: "same_kid" }), setError("invalid_key", SET_TEXT.invalid_key));
    case "rogue_kid":
      return send(t.idp.signSet(claims(), { rogue: "unknown_kid" }), setError("invalid_key", SET_TEXT.invalid_key));
    case "aud_wrong":
      return send(t.idp.signSet(claims({ aud: "https://other-receiver.example" })), setError("invalid_audience", SET_TEXT.invalid_audience));
    case "iss_wrong":
      return send(t.idp.signSet(claims({ iss: "https://idp.evil.example" })), setError("invalid_issuer", SET_TEXT.invalid_issuer));
    case "garbage":
      return send(`${crypto.randomUUID()}.not-a-set`, setError("invalid_request", SET_TEXT.not_jws));
    case "content_type":
      return send(t.idp.signSet(claims()), setError("invalid_request", SET_TEXT.content_type), "application/jwt");
    case "foreign_subject": // the dev IdP's alice, named by the soak IdP's stream: not its to revoke
      return send(t.idp.signSet(claims({ sub_id: { format: "iss_sub", iss: t.stack.urls.idp, sub: "00ualiceDEVIDP000001" } })), setError("access_denied", SET_TEXT.foreign));
    case "sub_claim":
      return send(t.idp.signSet(claims({ sub: sentinel.sub })), setError("invalid_request", SET_TEXT.sub_exp));
    case "restore_event":
      return send(t.idp.signSet(claims({ events: { "https://schemas.openid.net/secevent/risc/event-type/account-enabled": {} } })), emptyBody(202));
    case "unknown_stream":
      return send(t.idp.signSet(claims()), emptyBody(404), undefined, ssfUrl(t, "no-such-stream"));
  }
}

/** Okta's one-time verification challenge, echoed as JSON. */
export async function challenge(t: Traffic): Promise<void> {
  const value = `soak-${crypto.randomUUID()}`;
  await t.tally.send("okta.challenge", true, hookUrl(t), { headers: { "x-okta-verification-challenge": value } }, exactJson(200, { verification: value }, { "cache-control": "no-store" }));
}

/** During the run: a revoked subject's spare ID-JAG is refused and its old token is inactive. */
export async function recheck(t: Traffic, r: Revocation | undefined = t.revocations.length > 0 ? pick(t.revocations) : undefined, prefix = "recheck"): Promise<void> {
  if (r === undefined) return t.exchange();
  const checks: Promise<unknown>[] = [];
  if (r.spare.exp > nowSeconds() + SPARE_MARGIN_SECONDS) {
    checks.push(t.tally.send(`${prefix}.spare_exchange`, false, t.tokenUrl, t.tokenRequest({ grant_type: JWT_BEARER, assertion: r.spare.jag }), oauthError(400, "invalid_grant", REVOKED), t.throttleable));
  } else if (prefix === "verify") t.tally.count("verify.spare_exchange", "skipped (spare expired)");
  const token = r.subject.tokens[0]!;
  checks.push(t.tally.send(`${prefix}.old_token_introspection`, false, t.introspectUrl, t.tokenRequestForToken(token.token), exactJson(200, { active: false }, { "cache-control": "no-store" }), t.throttleable));
  await Promise.all(checks);
}

/** After the run: every acknowledged revocation is in force and mirrored; no forgery stuck to a sentinel. */
export async function verifyAll(t: Traffic, concurrency: number): Promise<{ verified: number; acknowledged: number }> {
  const kv = (await t.stack.mf.getKVNamespace("CONFIG", "ema-edge")) as unknown as KVNamespace;
  let verified = 0;
  const failuresBefore = () => t.tally.wrongCount;
  const queue = [...t.revocations];
  const worker = async () => {
    for (let r = queue.shift(); r !== undefined; r = queue.shift()) {
      const before = failuresBefore();
      await recheck(t, r, "verify");
      const record = await kv.get<SubjectRevocationRecord>(await subjectMirrorKey({ iss: t.idp.issuer, sub: r.subject.sub }), "json");
      const tokenIat = Math.max(...r.subject.tokens.map((i) => i.claims.iat as number));
      if (record === null) t.tally.fail("verify.kv_mirror", `revoked:v1 entry for ${r.subject.sub}`, "none");
      else if (record.sub !== r.subject.sub || record.iss !== t.idp.issuer || record.revoked_before < Math.max(tokenIat, r.spare.iat) || record.revoked_before > r.ackedAt) {
        t.tally.fail("verify.kv_mirror", `sub ${r.subject.sub}, revoked_before in [${Math.max(tokenIat, r.spare.iat)}, ${r.ackedAt}]`, JSON.stringify(record));
      } else t.tally.count("verify.kv_mirror", "present");
      if (t.tally.wrongCount === before) verified++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));

  // Sentinels: only forgeries were aimed at them, so nothing may be stored for them.
  for (const s of t.sentinels) {
    const record = await kv.get(await subjectMirrorKey({ iss: t.idp.issuer, sub: s.sub }));
    if (record !== null) t.tally.fail("verify.sentinel_kv_mirror", `no revocation for sentinel ${s.sub}`, record);
    else t.tally.count("verify.sentinel_kv_mirror", "absent");
    if (s.startJag && s.startJag.exp > nowSeconds() + SPARE_MARGIN_SECONDS) {
      // Minted before any forgery was sent: a stored forged revocation would refuse it.
      await t.redeem("verify.sentinel_start_id_jag", s, s.startJag, t.tokenRequest({ grant_type: JWT_BEARER, assertion: s.startJag.jag }), "notes.read notes.write", s.startJag.iat - 30);
    }
    const first = s.tokens[0];
    if (first && (first.claims.exp as number) > nowSeconds() + SPARE_MARGIN_SECONDS) {
      await t.tally.send("verify.sentinel_token_introspection", true, t.introspectUrl, t.tokenRequestForToken(first.token), exactJson(200, introspection(first.claims)), t.throttleable);
    }
  }
  // The dev IdP's alice was named by a foreign-subject SET: she must still get her token.
  await t.idpFlow("alice");
  return { verified, acknowledged: t.revocations.length };
}
