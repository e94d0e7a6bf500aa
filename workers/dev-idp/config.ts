// Checks the deployment values before anything is served. The dev IdP lets anyone log in as anyone,
// so it must only ever answer on this machine: an ISSUER that is not a loopback origin means it was
// deployed or exposed by mistake, and every route refuses with a text that says why.
import { ok, refuse, type Result } from "../lib/result";

/** The host names that can only mean this machine (URL.hostname keeps IPv6 brackets). */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(["localhost", "127.0.0.1", "[::1]"]);

export interface DevIdpConfig {
  /** ISSUER, a loopback origin without a trailing slash. */
  issuer: string;
  /** EMA_EDGE_ISSUER exactly as configured: it is compared with `audience` byte for byte. */
  emaEdgeIssuer: string;
  /** EMA_EDGE_ISSUER without a trailing slash, to append webhook paths to. */
  emaEdgeBase: string;
  idpId: string;
}

export function checkConfig(env: { ISSUER?: unknown; EMA_EDGE_ISSUER?: unknown; EMA_EDGE_IDP_ID?: unknown }): Result<DevIdpConfig, string> {
  const issuer = parseUrl(env.ISSUER);
  if (issuer === undefined || !isLoopbackOrigin(issuer, String(env.ISSUER))) {
    return refuse(
      `dev-idp refuses to serve: ISSUER (${clip(env.ISSUER)}) is not a loopback http(s) origin such as http://localhost:8788. ` +
        "This development IdP lets anyone log in as any user; it must never be reachable from another machine.",
    );
  }
  const ema = parseUrl(env.EMA_EDGE_ISSUER);
  if (ema === undefined || (ema.protocol !== "http:" && ema.protocol !== "https:")) {
    return refuse(`dev-idp refuses to serve: EMA_EDGE_ISSUER (${clip(env.EMA_EDGE_ISSUER)}) is not an http(s) URL.`);
  }
  if (typeof env.EMA_EDGE_IDP_ID !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(env.EMA_EDGE_IDP_ID)) {
    return refuse("dev-idp refuses to serve: EMA_EDGE_IDP_ID must be ema-edge's short id for this IdP (letters, digits, . _ -).");
  }
  const emaEdgeIssuer = String(env.EMA_EDGE_ISSUER);
  return ok({ issuer: issuer.origin, emaEdgeIssuer, emaEdgeBase: emaEdgeIssuer.replace(/\/+$/, ""), idpId: env.EMA_EDGE_IDP_ID });
}

/**
 * An origin on a loopback host. The written value must be the origin itself, which also rules out
 * a path, query, fragment or `user@` credentials, so `iss` in every token is what metadata says.
 */
export function isLoopbackOrigin(url: URL, written: string): boolean {
  if (url.protocol !== "http:" && url.protocol !== "https:") return false;
  if (!LOOPBACK_HOSTS.has(url.hostname)) return false;
  return written === url.origin;
}

function parseUrl(value: unknown): URL | undefined {
  if (typeof value !== "string") return undefined;
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

const clip = (value: unknown) => (typeof value === "string" ? JSON.stringify(value.slice(0, 100)) : "unset");
