// The soak's own IdP: an RS256 and an ES256 key whose JWKS a loopback HTTP server publishes, so the
// soak can mint ID-JAGs for any number of subjects (the dev IdP mints only for its three seeded
// users), sign SSF SETs, and build Okta Event Hook deliveries. Also the hostile variants: a rogue key
// under the real kid, an unknown kid, and an HMAC "asymmetric" forgery. Loopback only; no state.
import { createServer, type Server } from "node:http";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from "jose";

export const SOAK_IDP_ID = "soak-idp";
/** The Okta hook secret the soak policy trusts (only its SHA-256 goes into the policy). */
export const SOAK_HOOK_SECRET = `soak-hook-secret-${crypto.randomUUID()}`;
export const SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
export const ACCOUNT_DISABLED = "https://schemas.openid.net/secevent/risc/event-type/account-disabled";
/** Event types the soak policy (group_removal: revoke) turns into revocations. */
export const REVOKING_OKTA_EVENTS = ["user.lifecycle.deactivate", "user.lifecycle.suspend", "user.session.clear", "group.user_membership.remove"] as const;

type Alg = "RS256" | "ES256";
interface Key {
  alg: Alg;
  kid: string;
  privateKey: CryptoKey;
}

export interface IdJagOptions {
  sub: string;
  /** Claims to add, replace, or (undefined) delete. */
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
  alg?: Alg;
  /** Sign with a key the IdP does not publish: under the real kid, or under an unknown kid. */
  rogue?: "same_kid" | "unknown_kid";
  iat?: number;
  lifetimeSeconds?: number;
}

export interface SoakIdp {
  issuer: string;
  /** When ema-edge fetched the JWKS (performance.now() ms): bounded by its refetch cool-down. */
  jwksFetches(): readonly number[];
  mintIdJag(options: IdJagOptions): Promise<{ jag: string; iat: number; exp: number; jti: string }>;
  signSet(claims: Record<string, unknown>, options?: { rogue?: "same_kid" | "unknown_kid"; header?: Record<string, unknown> }): Promise<string>;
  close(): Promise<void>;
}

export interface SoakIdpContext {
  /** ema-edge's issuer: the ID-JAG `aud`. */
  audience: string;
  resource: string;
  clientId: string;
}

export async function startSoakIdp(ctx: SoakIdpContext): Promise<SoakIdp> {
  const run = crypto.randomUUID().slice(0, 8);
  const make = async (alg: Alg, kid: string): Promise<Key & { publicJwk: Record<string, unknown> }> => {
    const pair = await generateKeyPair(alg, { extractable: true });
    return { alg, kid, privateKey: pair.privateKey, publicJwk: { ...(await exportJWK(pair.publicKey)), kid, alg, use: "sig" } };
  };
  const keys = { RS256: await make("RS256", `soak-rs-${run}`), ES256: await make("ES256", `soak-es-${run}`) };
  // Same kid as the published RS256 key, different key material: only the signature check can tell.
  const rogueSameKid: Key = { ...(await make("RS256", keys.RS256.kid)) };
  const rogueUnknownKid: Key = { ...(await make("RS256", `rogue-${run}`)) };
  const jwks = JSON.stringify({ keys: [keys.RS256.publicJwk, keys.ES256.publicJwk] });

  const fetches: number[] = [];
  const handler = (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => {
    if (req.url === "/jwks.json") {
      fetches.push(performance.now());
      res.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=600" });
      res.end(jwks);
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end("{}");
  };
  // workerd may resolve `localhost` to either family: listen on both, on one port.
  const servers = await listenBothFamilies(handler);
  const issuer = `http://localhost:${servers.port}`;

  const pick = (alg: Alg, rogue?: "same_kid" | "unknown_kid"): Key => (rogue === "same_kid" ? rogueSameKid : rogue === "unknown_kid" ? rogueUnknownKid : keys[alg]);

  return {
    issuer,
    jwksFetches: () => fetches,
    async mintIdJag(o) {
      const iat = o.iat ?? Math.floor(Date.now() / 1000);
      const exp = iat + (o.lifetimeSeconds ?? 300);
      const jti = crypto.randomUUID();
      const key = pick(o.alg ?? "RS256", o.rogue);
      const claims: Record<string, unknown> = {
        iss: issuer,
        sub: o.sub,
        aud: ctx.audience,
        client_id: ctx.clientId,
        resource: ctx.resource,
        scope: "notes.read notes.write",
        groups: ["engineering"],
        amr: ["mfa"],
        auth_time: iat - 30,
        iat,
        exp,
        jti,
      };
      apply(claims, o.claims ?? {});
      const header = { alg: key.alg, kid: key.kid, typ: "oauth-id-jag+jwt", ...o.header };
      const jag = await new SignJWT(claims as JWTPayload).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
      return { jag, iat: claims.iat as number, exp: claims.exp as number, jti };
    },
    async signSet(claims, options = {}) {
      const key = pick("RS256", options.rogue); // ssf: {} accepts RS256 only (the CAEP interop profile)
      return new SignJWT(claims as JWTPayload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "secevent+jwt", ...options.header }).sign(key.privateKey);
    },
    async close() {
      await Promise.all(servers.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}

/** A SET revoking `sub` (SSF 1.0: top-level sub_id, one event, no sub/exp). */
export function revokingSet(issuer: string, audience: string, sub: string, eventTime: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const eventType = Math.random() < 0.5 ? SESSION_REVOKED : ACCOUNT_DISABLED;
  const body = eventType === SESSION_REVOKED ? { initiating_entity: "admin", event_timestamp: eventTime } : { reason: "hijacking", event_timestamp: eventTime };
  return apply(
    { iss: issuer, aud: audience, iat: Math.floor(Date.now() / 1000), jti: crypto.randomUUID(), sub_id: { format: "iss_sub", iss: issuer, sub }, events: { [eventType]: body } },
    overrides,
  );
}

/** An Okta Event Hook delivery (envelope 1.0) with one revoking LogEvent per subject, published at `published`. */
export function oktaDelivery(subs: readonly string[], published: Date): Record<string, unknown> {
  const events = subs.map((sub) => ({
    uuid: crypto.randomUUID(),
    published: published.toISOString(),
    eventType: REVOKING_OKTA_EVENTS[Math.floor(Math.random() * REVOKING_OKTA_EVENTS.length)],
    version: "0",
    displayMessage: "soak",
    severity: "INFO",
    actor: { id: "00uSOAKADMIN00000001", type: "User", alternateId: "admin@soak.example", displayName: "Soak Admin" },
    target: [{ id: sub, type: "User", alternateId: `${sub}@soak.example`, displayName: "Soak User" }],
    outcome: { result: "SUCCESS", reason: null },
  }));
  return {
    eventType: "com.okta.event_hook",
    eventTypeVersion: "1.0",
    cloudEventsVersion: "0.1",
    source: "https://soak.okta.example/api/v1/eventHooks/whoSOAK0001",
    eventId: crypto.randomUUID(),
    eventTime: new Date().toISOString(),
    contentType: "application/json",
    data: { events },
  };
}

/** Applies overrides in place: a value replaces, undefined deletes. */
function apply(target: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete target[k];
    else target[k] = v;
  }
  return target;
}

async function listenBothFamilies(handler: Parameters<typeof createServer>[1]): Promise<{ port: number; servers: Server[] }> {
  const listen = (server: Server, port: number, host: string) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve((server.address() as { port: number }).port));
    });
  for (let attempt = 0; attempt < 10; attempt++) {
    const v4 = createServer(handler!);
    const port = await listen(v4, 0, "127.0.0.1");
    const v6 = createServer(handler!);
    try {
      await listen(v6, port, "::1");
      return { port, servers: [v4, v6] };
    } catch {
      v4.close();
    }
  }
  throw new Error("no port free on both 127.0.0.1 and ::1");
}
