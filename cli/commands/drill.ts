// ema-edge drill — a revocation drill against a running deployment. The CLI plays the IdP: it
// hosts a JWKS where the trusted issuer's jwks_uri points (local: http://localhost:8788), gets an
// access token for a fresh test subject, pushes an Okta-shaped deactivation to the Event Hook the
// way Okta would, and measures how long after the hook's acknowledgement the exchange, introspection
// and the KV mirror refuse. It prints the evidence as a short report.
import { createServer, type Server } from "node:http";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { SignJWT, exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import { decodeBase64Url } from "../../workers/lib/base64url";
import type { TrustedIssuer } from "../../workers/lib/kv-records";
import { readDeployedPolicy } from "../../workers/lib/policy-publish";
import { subjectMirrorKey, type SubjectRevocationRecord } from "../../workers/lib/revocation-mirror";
import type { Target } from "../kv-backend";
import { UsageError, withStore, type Io } from "../io";

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** How long to wait for each path to refuse before calling the drill failed. */
const DRILL_TIMEOUT_MS = 10_000;

export interface DrillFlags {
  url?: string;
  iss?: string;
  "client-id"?: string;
  "client-secret"?: string;
  "hook-secret"?: string;
  user?: string;
}

export async function drillCommand(io: Io, target: Target, flags: DrillFlags): Promise<number> {
  if (target.remote && (!flags.url || !flags["hook-secret"] || !flags["client-secret"])) {
    throw new UsageError("drill --remote needs --url, --client-id/--client-secret and --hook-secret, and a trusted issuer whose jwks_uri this machine serves");
  }
  const url = (flags.url ?? io.localIssuer(target)).replace(/\/$/, "");
  const iss = flags.iss ?? "http://localhost:8788";
  const clientId = flags["client-id"] ?? "demo-client";
  const basic = `Basic ${btoa(`${encodeURIComponent(clientId)}:${encodeURIComponent(flags["client-secret"] ?? "demo-secret")}`)}`;
  const hookSecret = flags["hook-secret"] ?? "dev-okta-hook-secret";

  const policy = await withStore(io, target, ({ kv }) => readDeployedPolicy(kv));
  const issuer = policy?.issuers.find((i) => i.issuer === iss);
  if (!policy || !issuer?.jwks_uri || !issuer.default_resource) throw new UsageError(`the deployed policy has no issuer ${iss} with jwks_uri and default_resource`);
  const rule = policy.rules.find((r) => r.resources.includes(issuer.default_resource!) && (!r.issuers || r.issuers.includes(issuer.id)));
  if (!rule) throw new UsageError(`no rule grants ${issuer.id} access to ${issuer.default_resource}`);

  // With `npm run dev` running, the issuer is the dev IdP: the drill drives it as an admin would
  // (its deactivation pushes a real Event Hook and SET). Otherwise the CLI plays the IdP itself.
  const idp = (await isDevIdp(io, iss)) ? devIdpDrill(io, iss, url, issuer.default_resource, { id: clientId, secret: flags["client-secret"] ?? "demo-secret" }, flags.user ?? "alice") : await selfHostedDrill(io, url, issuer, rule.groups ?? [], clientId, hookSecret);
  const exchange = async (assertion: string) =>
    io.fetch(`${url}/oauth2/token`, { method: "POST", headers: { authorization: basic, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ grant_type: JWT_BEARER, assertion }) });
  const introspect = async (token: string) =>
    (await (await io.fetch(`${url}/oauth2/introspect`, { method: "POST", headers: { authorization: basic, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ token }) })).json()) as { active?: boolean };
  // Opened before the event, so its start-up time is not counted against the mirror.
  const mirror = target.remote ? undefined : await io.openStore(target);
  const lines: string[] = [];
  try {
    const t0 = Math.floor(Date.now() / 1000) - 1;
    const [first, later] = [await idp.mint(), await idp.mint()];
    const granted = await exchange(first);
    if (granted.status !== 200) throw new Error(`the drill subject could not get a token (${granted.status} ${await granted.text()})`);
    const { access_token: accessToken } = (await granted.json()) as { access_token: string };
    lines.push(`subject ${idp.sub} (${iss}) got an access token; introspection: active=${(await introspect(accessToken)).active}`);

    const revokeStart = Date.now();
    const revoked = await idp.revoke();
    const ack = Date.now();
    lines.push(`${revoked} after ${ack - revokeStart} ms`);

    const exchangeMs = await until(async () => (await exchange(later)).status === 400, ack);
    const introspectionMs = await until(async () => (await introspect(accessToken)).active === false, ack);
    const mirrorMs = mirror && (await until(async () => {
      const record = await mirror.kv.get(await subjectMirrorKey({ iss, sub: idp.sub }));
      return record !== null && (JSON.parse(record) as SubjectRevocationRecord).revoked_before >= t0;
    }, ack));
    lines.push(`exchange of an unexpired ID-JAG issued before the event: refused ${show(exchangeMs)} after the acknowledgement`);
    lines.push(`introspection of the outstanding access token: inactive ${show(introspectionMs)} after the acknowledgement`);
    if (!target.remote) lines.push(`KV mirror (what verifiers read): revoked ${show(mirrorMs)} after the acknowledgement (+ up to the verifier's KV cacheTtl at other locations)`);
    const passed = [exchangeMs, introspectionMs].every((m) => m !== undefined);
    io.out(["# Revocation drill", `deployment ${url}, ${new Date().toISOString()}`, "", ...lines.map((l) => `- ${l}`), "", passed ? "PASS" : "FAIL"].join("\n"));
    return passed ? 0 : 1;
  } finally {
    await idp.close();
    await mirror?.close();
  }
}

/** Where the drill's ID-JAGs come from and how its revocation is sent. */
interface DrillIdp {
  /** The drill subject's `sub` (known once the first ID-JAG is minted, for the dev IdP). */
  readonly sub: string;
  mint(): Promise<string>;
  /** Sends the revocation; resolves once the IdP's push was acknowledged, with a line for the report. */
  revoke(): Promise<string>;
  close(): Promise<void>;
}

/** The dev IdP answers on every route with this header (workers/dev-idp). */
async function isDevIdp(io: Io, iss: string): Promise<boolean> {
  try {
    const response = await io.fetch(`${iss}/.well-known/oauth-authorization-server`, { signal: AbortSignal.timeout(1000) });
    await response.body?.cancel();
    return response.headers.get("x-dev-idp") !== null;
  } catch {
    return false;
  }
}

/** The drill through the dev IdP: `user` signs in, gets ID-JAGs, is deactivated (and reactivated after). */
function devIdpDrill(io: Io, iss: string, audience: string, resource: string, client: { id: string; secret: string }, user: string): DrillIdp {
  let sub = "";
  const post = (path: string, form?: Record<string, string>) =>
    io.fetch(`${iss}${path}`, { method: "POST", ...(form && { headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form) }) });
  let idToken: string | undefined;
  return {
    get sub() {
      return sub;
    },
    async mint() {
      if (idToken === undefined) {
        await (await post("/dev/reset")).body?.cancel();
        const login = await post("/dev/login", { username: user, client_id: client.id });
        if (!login.ok) throw new UsageError(`the dev IdP refused to sign in ${user} (${login.status})`);
        idToken = ((await login.json()) as { id_token: string }).id_token;
      }
      const response = await post("/oauth2/token", {
        grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
        requested_token_type: "urn:ietf:params:oauth:token-type:id-jag",
        subject_token: idToken,
        subject_token_type: "urn:ietf:params:oauth:token-type:id_token",
        audience,
        resource,
        client_id: client.id,
        client_secret: client.secret,
      });
      if (!response.ok) throw new Error(`the dev IdP refused an ID-JAG (${response.status} ${await response.text()})`);
      const grant = ((await response.json()) as { access_token: string }).access_token;
      sub = (JSON.parse(new TextDecoder().decode(decodeBase64Url(grant.split(".")[1]!))) as { sub: string }).sub;
      return grant;
    },
    async revoke() {
      const response = await post(`/dev/users/${encodeURIComponent(user)}/deactivate`);
      const body = (await response.json()) as { pushes?: { url: string; status: number | null; ms: number }[] };
      if (!response.ok) throw new Error(`the dev IdP could not deliver its pushes (${response.status} ${JSON.stringify(body)})`);
      const pushes = (body.pushes ?? []).map((p) => `${new URL(p.url).pathname} ${p.status} in ${p.ms} ms`).join(", ");
      return `dev IdP deactivated ${user}; its pushes were acknowledged (${pushes})`;
    },
    async close() {
      await (await post(`/dev/users/${encodeURIComponent(user)}/reactivate`)).body?.cancel();
    },
  };
}

/** The CLI as the IdP: a persistent key served where the issuer's jwks_uri points, a hook it sends itself. */
async function selfHostedDrill(io: Io, url: string, issuer: TrustedIssuer, groups: string[], clientId: string, hookSecret: string): Promise<DrillIdp> {
  const key = await drillKey(join(io.cwd, ".wrangler", "drill-idp-key.json"));
  const servers = await serveJwks(issuer.jwks_uri!, key.publicJwk);
  const sub = `drill-${crypto.randomUUID().slice(0, 8)}`;
  const t0 = Math.floor(Date.now() / 1000) - 1;
  return {
    sub,
    mint: () =>
      new SignJWT({ client_id: clientId, resource: issuer.default_resource, groups, amr: ["pwd", "mfa"], auth_time: t0 })
        .setProtectedHeader({ alg: "ES256", kid: key.kid, typ: "oauth-id-jag+jwt" })
        .setIssuer(issuer.issuer).setSubject(sub).setAudience(url).setIssuedAt(t0).setExpirationTime(t0 + 240).setJti(crypto.randomUUID())
        .sign(key.privateKey),
    async revoke() {
      const hook = await io.fetch(`${url}/hooks/okta/${issuer.id}`, {
        method: "POST",
        headers: { [issuer.revocation?.okta_event_hook?.header ?? "authorization"]: hookSecret, "content-type": "application/json" },
        body: JSON.stringify(oktaDeactivation(issuer.issuer, sub)),
      });
      if (hook.status >= 300) throw new Error(`the event hook answered ${hook.status}`);
      return `event hook acknowledged with ${hook.status}`;
    },
    async close() {
      for (const s of servers) s.close();
    },
  };
}

const show = (ms: number | undefined) => (ms === undefined ? `NOT within ${DRILL_TIMEOUT_MS} ms` : `${ms} ms`);

/** Polls `check` until it holds; the elapsed time since `since`, or undefined on timeout. */
async function until(check: () => Promise<boolean>, since: number): Promise<number | undefined> {
  while (Date.now() - since < DRILL_TIMEOUT_MS) {
    if (await check()) return Date.now() - since;
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}

function oktaDeactivation(iss: string, sub: string) {
  const now = new Date().toISOString();
  return {
    eventType: "com.okta.event_hook",
    eventTypeVersion: "1.0",
    cloudEventsVersion: "0.1",
    source: `${iss}/api/v1/eventHooks/drill`,
    eventId: crypto.randomUUID(),
    eventTime: now,
    contentType: "application/json",
    data: {
      events: [
        {
          uuid: crypto.randomUUID(),
          published: now,
          eventType: "user.lifecycle.deactivate",
          version: "0",
          displayMessage: "Deactivate Okta user",
          severity: "INFO",
          actor: { id: "ema-edge-drill", type: "User", alternateId: "drill", displayName: "ema-edge drill" },
          target: [{ id: sub, type: "User", alternateId: `${sub}@drill.invalid`, displayName: sub }],
          outcome: { result: "SUCCESS", reason: null },
        },
      ],
    },
  };
}

/** The drill IdP's key, kept across runs so the deployment's JWKS cache keeps recognising its kid. */
async function drillKey(path: string) {
  if (!existsSync(path)) {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, JSON.stringify({ ...(await exportJWK(privateKey)), kid: `drill-${crypto.randomUUID().slice(0, 8)}`, alg: "ES256" }), { mode: 0o600 });
  }
  const jwk = JSON.parse(readFileSync(path, "utf8")) as JWK & { kid: string };
  const { d: _d, ...publicJwk } = jwk;
  return { kid: jwk.kid, privateKey: await importJWK(jwk, "ES256"), publicJwk: { ...publicJwk, use: "sig" } };
}

/** Serves the JWKS at the jwks_uri's port and path, on both loopback addresses (wrangler dev resolves localhost either way). */
async function serveJwks(jwksUri: string, publicJwk: object): Promise<Server[]> {
  const uri = new URL(jwksUri);
  if (!["localhost", "127.0.0.1", "[::1]"].includes(uri.hostname)) throw new UsageError(`the drill can only serve a loopback jwks_uri, not ${jwksUri}`);
  const body = JSON.stringify({ keys: [publicJwk] });
  const servers: Server[] = [];
  for (const host of ["127.0.0.1", "::1"]) {
    const server = createServer((req, res) => {
      const found = req.url === uri.pathname;
      res.writeHead(found ? 200 : 404, { "content-type": "application/json", "cache-control": "max-age=60" });
      res.end(found ? body : "{}");
    });
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen(Number(uri.port || 80), host, resolve));
    servers.push(server);
  }
  return servers;
}
