// The soak's request kinds, each with the one answer it must get: valid exchanges for many soak
// subjects (and the dev IdP's alice/bob/carol), introspection, replays, revocations through the Okta
// Event Hook and SSF, and the hostile variants. Subjects move live → revoking → revoked and a
// subject with a request in flight is never revoked, so every expected answer is unambiguous.
import { createLocalJWKSet, jwtVerify, type JWTVerifyGetKey } from "jose";
import { DEMO_CLIENT, type LocalStack } from "./stack";
import { exactJson, oauthError, Tally, type Check, type Got } from "./soak-check";
import { type SoakIdp } from "./soak-idp";

export const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
export const BASIC = `Basic ${Buffer.from(`${DEMO_CLIENT.id}:${DEMO_CLIENT.secret}`).toString("base64")}`;
const FORM = "application/x-www-form-urlencoded";
/** Soak subjects live at once; more are made as revocations retire them. */
const LIVE_SUBJECTS = 40;
/** Tokens and redeemed ID-JAGs kept per subject (for introspection and replays). */
const KEPT_PER_SUBJECT = 4;
/** An answer must not depend on an expiry racing the request: leave this much margin. */
const EXPIRY_MARGIN_SECONDS = 10;

export interface Issued {
  token: string;
  /** The verified access-token claims; introspection must answer exactly these. */
  claims: Record<string, unknown>;
}

export interface Subject {
  sub: string;
  email?: string;
  sentinel: boolean;
  state: "live" | "revoking" | "revoked" | "lost";
  inflight: number;
  tokens: Issued[];
  redeemed: { jag: string; exp: number }[];
  /** Sentinels: an ID-JAG minted at the start and never redeemed until the end. */
  startJag?: { jag: string; iat: number; exp: number };
}

export interface Revocation {
  subject: Subject;
  channel: "okta_event_hook" | "ssf";
  /** The event time sent (epoch seconds) and when the 2xx came back. */
  eventTime: number;
  ackedAt: number;
  /** Minted before the revocation, never redeemed: must be refused. */
  spare: { jag: string; iat: number; exp: number };
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);
export const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!;
export const chance = (p: number) => Math.random() < p;

export class Traffic {
  readonly subjects: Subject[] = [];
  readonly sentinels: Subject[] = [];
  readonly revocations: Revocation[] = [];
  private serial = 0;
  private atKeys: JWTVerifyGetKey | undefined;

  constructor(
    readonly stack: LocalStack,
    readonly idp: SoakIdp,
    readonly tally: Tally,
    /**
     * Whether a 429 may stand in for a post-authentication answer (deployed rate limits kept).
     * Turned off for the final verification: a 429 there would verify nothing.
     */
    public throttleable: boolean,
  ) {}

  get tokenUrl() {
    return `${this.stack.urls.as}/oauth2/token`;
  }
  get introspectUrl() {
    return `${this.stack.urls.as}/oauth2/introspect`;
  }

  async init(sentinels: number): Promise<void> {
    const jwks = await (await fetch(`${this.stack.urls.as}/.well-known/jwks.json`)).json();
    this.atKeys = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
    for (let i = 0; i < sentinels; i++) {
      const s = this.newSubject(true);
      const minted = await this.idp.mintIdJag({ sub: s.sub });
      s.startJag = { jag: minted.jag, iat: minted.iat, exp: minted.exp };
      this.sentinels.push(s);
    }
  }

  newSubject(sentinel = false): Subject {
    const n = ++this.serial;
    const sub = `00usoak${sentinel ? "S" : "L"}${String(n).padStart(12, "0")}`;
    const s: Subject = { sub, sentinel, state: "live", inflight: 0, tokens: [], redeemed: [], ...(n % 3 === 0 && { email: `${sub}@soak.example` }) };
    if (!sentinel) this.subjects.push(s);
    return s;
  }

  /** A live soak subject, sometimes a new one; sentinels take some of the traffic too. */
  liveSubject(): Subject {
    if (chance(0.15) && this.sentinels.length > 0) return pick(this.sentinels);
    const live = this.subjects.filter((s) => s.state === "live");
    if (live.length < LIVE_SUBJECTS || chance(0.1)) return this.newSubject();
    return pick(live);
  }

  /** Runs `work` with the subject marked busy, so no revocation starts under it. */
  async using<T>(subject: Subject, work: () => Promise<T>): Promise<T> {
    subject.inflight++;
    try {
      return await work();
    } finally {
      subject.inflight--;
    }
  }

  tokenRequest(form: Record<string, string>, init: { auth?: string | null; contentType?: string } = {}): RequestInit {
    const headers: Record<string, string> = { "content-type": init.contentType ?? FORM };
    const auth = init.auth === undefined ? BASIC : init.auth;
    if (auth !== null) headers.authorization = auth;
    return { method: "POST", headers, body: new URLSearchParams(form).toString() };
  }

  /** A valid exchange of a fresh soak ID-JAG, one of several variants with its own expected scope. */
  async exchange(): Promise<void> {
    const subject = this.liveSubject();
    await this.using(subject, async () => {
      const variant = pick(["full", "full", "full", "no_mfa", "no_scope_claim", "scope_param", "client_secret_post", "resource_param"] as const);
      const claims: Record<string, unknown> = { ...(subject.email !== undefined && { email: subject.email }) };
      if (variant === "no_mfa") claims.amr = ["pwd"]; // the step-up condition drops notes.write
      if (variant === "no_scope_claim") claims.scope = undefined; // default_scopes: notes.read
      const minted = await this.idp.mintIdJag({ sub: subject.sub, claims, alg: chance(0.3) ? "ES256" : "RS256" });
      const form: Record<string, string> = { grant_type: JWT_BEARER, assertion: minted.jag };
      if (variant === "scope_param") form.scope = "notes.read";
      if (variant === "resource_param") form.resource = this.stack.urls.resource;
      let auth: string | null | undefined;
      if (variant === "client_secret_post") {
        Object.assign(form, { client_id: DEMO_CLIENT.id, client_secret: DEMO_CLIENT.secret });
        auth = null;
      }
      const scope = variant === "full" || variant === "client_secret_post" || variant === "resource_param" ? "notes.read notes.write" : "notes.read";
      await this.redeem(`exchange.${variant}`, subject, minted, this.tokenRequest(form, { auth }), scope, minted.iat - 30);
    });
  }

  /** Sends an exchange that must succeed, checks the body and the access token, keeps both. */
  async redeem(kind: string, subject: Subject, minted: { jag: string; exp: number }, init: RequestInit, scope: string, authTime: number | undefined): Promise<void> {
    const before = nowSeconds();
    const got = await this.tally.send(kind, true, this.tokenUrl, init, this.tokenSuccess(scope), this.throttleable);
    if (got?.status !== 200) return;
    const issued = await this.checkAccessToken(kind, got, { sub: subject.sub, scope, idp: this.idp.issuer, authTime, before });
    if (issued === undefined) return;
    keep(subject.tokens, issued);
    keep(subject.redeemed, { jag: minted.jag, exp: minted.exp });
  }

  tokenSuccess(scope: string): Check {
    return (got) => {
      const expected = `200 {access_token, token_type: Bearer, expires_in: 300, scope: "${scope}", resource}`;
      const body = got.json as Record<string, unknown> | undefined;
      if (got.status !== 200 || body === undefined) return expected;
      const keys = Object.keys(body).sort().join(",");
      if (keys !== "access_token,expires_in,resource,scope,token_type") return `${expected} (exactly these members)`;
      if (typeof body.access_token !== "string" || body.token_type !== "Bearer" || body.expires_in !== 300 || body.scope !== scope || body.resource !== this.stack.urls.resource) return expected;
      if (got.headers.get("cache-control") !== "no-store") return "Cache-Control: no-store";
      return undefined;
    };
  }

  /** Verifies the access token against ema-edge's JWKS and checks its claims. */
  async checkAccessToken(kind: string, got: Got, want: { sub: string; scope: string; idp: string; authTime: number | undefined; before: number }): Promise<Issued | undefined> {
    const token = (got.json as { access_token: string }).access_token;
    try {
      const { payload, protectedHeader } = await jwtVerify(token, this.atKeys!, { issuer: this.stack.urls.as, audience: this.stack.urls.resource, typ: "at+jwt" });
      const after = nowSeconds();
      const problems = [
        payload.sub !== want.sub && "sub",
        payload.scope !== want.scope && "scope",
        payload.idp !== want.idp && "idp",
        payload.client_id !== DEMO_CLIENT.id && "client_id",
        payload.auth_time !== want.authTime && "auth_time",
        (payload.iat! < want.before - 1 || payload.iat! > after + 1) && "iat",
        payload.exp !== payload.iat! + 300 && "exp",
        typeof payload.jti !== "string" && "jti",
        protectedHeader.typ !== "at+jwt" && "typ",
      ].filter(Boolean);
      if (problems.length > 0) {
        this.tally.fail(kind, "an access token with the expected claims", `wrong ${problems.join(", ")}`);
        return undefined;
      }
      return { token, claims: payload as Record<string, unknown> };
    } catch (error) {
      this.tally.fail(kind, "an access token that verifies with ema-edge's JWKS", `${(error as Error).name}`);
      return undefined;
    }
  }

  /** Introspects a token of a live subject or sentinel: exactly the token's claims, active. */
  async introspect(): Promise<void> {
    const now = nowSeconds();
    const holders = [...this.sentinels, ...this.subjects.filter((s) => s.state === "live")].filter((s) => s.tokens.length > 0);
    if (holders.length === 0) return this.exchange();
    const subject = pick(holders);
    const issued = pick(subject.tokens);
    if ((issued.claims.exp as number) < now + EXPIRY_MARGIN_SECONDS) return this.exchange();
    await this.using(subject, () => this.tally.send("introspect.active", true, this.introspectUrl, this.tokenRequestForToken(issued.token), exactJson(200, introspection(issued.claims), { "cache-control": "no-store" }), this.throttleable));
  }

  tokenRequestForToken(token: string, auth?: string | null): RequestInit {
    return this.tokenRequest({ token, token_type_hint: "access_token" }, { auth });
  }

  /** An ID-JAG redeemed before, sent again: refused as replayed, whoever's it is. */
  async replay(): Promise<void> {
    const now = nowSeconds();
    const holders = [...this.sentinels, ...this.subjects.filter((s) => s.state === "live")].filter((s) => s.redeemed.some((r) => r.exp > now + EXPIRY_MARGIN_SECONDS));
    if (holders.length === 0) return this.exchange();
    const subject = pick(holders);
    const used = pick(subject.redeemed.filter((r) => r.exp > now + EXPIRY_MARGIN_SECONDS));
    await this.using(subject, () =>
      this.tally.send("replay", false, this.tokenUrl, this.tokenRequest({ grant_type: JWT_BEARER, assertion: used.jag }), oauthError(400, "invalid_grant", "The assertion has already been used."), this.throttleable),
    );
  }

  /** The dev IdP's own flow: login, RFC 8693 exchange for an ID-JAG, then ema-edge, per user's outcome. */
  async idpFlow(user = pick(["alice", "bob", "carol"] as const)): Promise<void> {
    const { idp, as, resource } = this.stack.urls;
    const login = await this.tally.send(`idp.login`, true, `${idp}/dev/login`, { method: "POST", body: new URLSearchParams({ username: user, client_id: DEMO_CLIENT.id }) }, (g) =>
      g.status === 200 && typeof (g.json as { id_token?: unknown })?.id_token === "string" ? undefined : "200 {id_token}",
    );
    if (login?.status !== 200) return;
    const idToken = (login.json as { id_token: string }).id_token;
    const exchange = await this.tally.send(
      `idp.token_exchange`,
      true,
      `${idp}/oauth2/token`,
      this.tokenRequest({
        grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
        requested_token_type: "urn:ietf:params:oauth:token-type:id-jag",
        subject_token: idToken,
        subject_token_type: "urn:ietf:params:oauth:token-type:id_token",
        audience: as,
        resource,
        scope: "notes.read notes.write",
      }),
      (g) => (g.status === 200 && (g.json as { issued_token_type?: unknown })?.issued_token_type === "urn:ietf:params:oauth:token-type:id-jag" ? undefined : "200 {access_token: ID-JAG, issued_token_type: id-jag}"),
    );
    if (exchange?.status !== 200) return;
    const jag = (exchange.json as { access_token: string }).access_token;
    const init = this.tokenRequest({ grant_type: JWT_BEARER, assertion: jag });
    if (user === "carol") {
      await this.tally.send("exchange.dev_idp.carol", true, this.tokenUrl, init, oauthError(400, "invalid_grant", "No policy rule grants access to this resource."), this.throttleable);
      return;
    }
    const scope = user === "alice" ? "notes.read notes.write" : "notes.read";
    const before = nowSeconds();
    const got = await this.tally.send(`exchange.dev_idp.${user}`, true, this.tokenUrl, init, this.tokenSuccess(scope), this.throttleable);
    if (got?.status !== 200) return;
    const claims = JSON.parse(Buffer.from(jag.split(".")[1]!, "base64url").toString()) as { sub: string; iss: string; auth_time?: number };
    const issued = await this.checkAccessToken(`exchange.dev_idp.${user}`, got, { sub: claims.sub, scope, idp: claims.iss, authTime: claims.auth_time, before });
    if (issued) await this.tally.send("introspect.dev_idp", true, this.introspectUrl, this.tokenRequestForToken(issued.token), exactJson(200, introspection(issued.claims)), this.throttleable);
  }
}

/** RFC 7662 answer for an active token: exactly what introspectionBody derives from the claims. */
export function introspection(claims: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = { active: true, token_type: "Bearer" };
  for (const name of ["scope", "client_id", "exp", "iat", "sub", "aud", "iss", "jti", "idp", "tenant", "auth_time", "act"]) {
    if (claims[name] !== undefined) body[name] = claims[name];
  }
  return body;
}

function keep<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > KEPT_PER_SUBJECT) list.shift();
}
