// Authenticates the client at the token endpoint (RFC 6749 §2.3.1): client_secret_basic or
// client_secret_post, exactly one of them. Secrets are compared as SHA-256 digests in constant
// time, and an unknown client costs the same comparison, so timing reveals neither.
import { timingSafeEqual } from "../lib/digest";
import { ok, refuse, type Result } from "../lib/result";
import { findClient } from "./directory";
import type { Params } from "./form";

type ClientAuthRefusal = "client_auth_multiple_methods" | "client_auth_failed";

export interface ClientCredentials {
  clientId: string;
  secret: string;
  method: "client_secret_basic" | "client_secret_post";
}

/** Which credentials the request presents, before they are checked. Pure. */
export function readClientCredentials(authorization: string | null, params: Params): Result<ClientCredentials, ClientAuthRefusal> {
  const postId = params.get("client_id");
  const postSecret = params.get("client_secret");
  if (authorization !== null) {
    // Two methods at once is refused (§2.3), but a client_id in the body that repeats the Basic one
    // is allowed: RFC 6749 §3.2.1 lets clients send it.
    if (postSecret !== undefined) return refuse("client_auth_multiple_methods");
    const basic = decodeBasic(authorization);
    if (basic === undefined) return refuse("client_auth_failed");
    if (postId !== undefined && postId !== basic.clientId) return refuse("client_auth_failed");
    return ok({ ...basic, method: "client_secret_basic" });
  }
  // No public clients: without a secret there is nothing to authenticate.
  if (postId === undefined || postSecret === undefined) return refuse("client_auth_failed");
  return ok({ clientId: postId, secret: postSecret, method: "client_secret_post" });
}

/** The authenticated client_id, or a refusal that says nothing about which part was wrong. */
export async function authenticateClient(authorization: string | null, params: Params): Promise<Result<string, ClientAuthRefusal>> {
  const presented = readClientCredentials(authorization, params);
  if (!presented.ok) return presented;
  const client = findClient(presented.value.clientId);
  const matches = await secretsMatch(presented.value.secret, client?.secret ?? UNKNOWN_CLIENT_SECRET);
  return client !== undefined && matches ? ok(client.clientId) : refuse("client_auth_failed");
}

/**
 * Compared against when the client is unknown, so that path does the same work. A constant (no
 * random values in global scope on Workers); the result is refused whatever it matches.
 */
const UNKNOWN_CLIENT_SECRET = "no-such-client";
const encoder = new TextEncoder();

async function secretsMatch(presented: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(presented), digest(expected)]);
  return timingSafeEqual(a, b);
}

async function digest(value: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(value)));
}

/** `Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1), or undefined. */
function decodeBasic(header: string): { clientId: string; secret: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(header.trim());
  if (!match) return undefined;
  let decoded: string;
  try {
    decoded = atob(match[1]!);
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  try {
    const clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, " "));
    const secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, " "));
    return clientId === "" ? undefined : { clientId, secret };
  } catch {
    return undefined;
  }
}
