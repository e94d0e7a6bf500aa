// A test IdP that really signs (runs inside workerd, next to the tests): it generates RS256 and
// ES256 keys with jose, publishes the public halves on the loopback host from idp-server.ts, and
// mints ID-JAGs or any other JWT. Control calls change what the host serves and read its counters.
import { inject } from "vitest";
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWTPayload } from "jose";

export interface TestKey {
  kid: string;
  alg: "RS256" | "ES256";
  privateKey: CryptoKey;
  publicJwk: JsonWebKey & { kid: string; alg: string; use: string };
}

export type HostMode = "ok" | "status_500" | "hang" | "garbage" | "oversized" | "slow" | "redirect" | "trickle";

export async function makeKey(alg: "RS256" | "ES256", kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } as TestKey["publicJwk"];
  return { kid, alg, privateKey, publicJwk };
}

export interface TestIdp {
  id: string;
  issuer: string;
  jwksUri: string;
  keys: TestKey[];
  /** Signs `claims` with `key` (default: the first key). `header` overrides/extends the JOSE header. */
  sign(claims: JWTPayload, options?: { key?: TestKey; header?: Record<string, unknown> }): Promise<string>;
  /** Replaces the published key set (rotation). */
  publish(keys: TestKey[]): Promise<void>;
  /** Changes how the host answers JWKS requests ("redirect" sends a 302 to `location`). */
  setMode(mode: HostMode, extra?: { delayMs?: number; cacheControl?: string | null; location?: string }): Promise<void>;
  /** Serves `doc` as the issuer's metadata (both well-known names) instead of the generated one. */
  setMetadata(doc: unknown): Promise<void>;
  stats(): Promise<{ jwksFetches: number; metadataFetches: number }>;
}

const host = () => inject("idpHost");

async function control(path: string, method: string, body?: unknown): Promise<any> {
  const res = await fetch(`${host()}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`test IdP control ${method} ${path} → ${res.status}`);
  return res.json();
}

/** Creates a fresh issuer on the loopback host, with an RS256 and an ES256 key published. */
export async function createTestIdp(options: { cacheControl?: string } = {}): Promise<TestIdp> {
  const keys = [await makeKey("RS256", "rsa-1"), await makeKey("ES256", "ec-1")];
  const created = await control("/control/issuers", "POST", {
    jwks: { keys: keys.map((k) => k.publicJwk) },
    cacheControl: options.cacheControl ?? null,
  });
  const idp: TestIdp = {
    id: created.id,
    issuer: created.issuer,
    jwksUri: created.jwks_uri,
    keys,
    async sign(claims, opts = {}) {
      const key = opts.key ?? keys[0]!;
      return new SignJWT(claims)
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "oauth-id-jag+jwt", ...opts.header } as any)
        .sign(key.privateKey);
    },
    async publish(next) {
      idp.keys = next;
      await control(`/control/issuers/${created.id}`, "PATCH", { jwks: { keys: next.map((k) => k.publicJwk) } });
    },
    async setMode(mode, extra = {}) {
      await control(`/control/issuers/${created.id}`, "PATCH", { mode, ...extra });
    },
    async setMetadata(doc) {
      await control(`/control/issuers/${created.id}`, "PATCH", { metadata: doc });
    },
    stats: () => control(`/control/issuers/${created.id}`, "GET"),
  };
  return idp;
}
