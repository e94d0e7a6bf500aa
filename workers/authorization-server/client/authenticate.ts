// Token-endpoint client authentication (RFC 6749 §2.3): exactly one of HTTP Basic
// (client_secret_basic, §2.3.1), client_id + client_secret in the body (client_secret_post), or a
// client assertion (private_key_jwt, RFC 7523 §2.2). Confidential clients only: a bare client_id is
// refused until public clients get their opt-in (design.md, "Clients"). Grant checks are the caller's.
import type { ClientAuthMethod, ClientRecord } from "../../lib/kv-records";
import { ok, refuse, type Result } from "../../lib/result";
import type { ClientRefusal } from "../oauth/refusal";
import { readClientAssertion, verifyClientAssertion, type UnverifiedClientAssertion } from "./assertion";
import { activeSecretHashes, checkClientSecret } from "./secret";

export interface ClientAuthInput {
  /** Form parameters after duplicate checking: one value each. */
  params: ReadonlyMap<string, string>;
  /** The raw Authorization header, or null. */
  authorization: string | null;
  /** Our issuer identifier and token endpoint URL: accepted `aud` values of a client assertion. */
  issuer: string;
  tokenEndpoint: string;
  /** Epoch seconds. */
  now: number;
  loadClient(clientId: string): Promise<ClientRecord | null>;
}

export interface AuthenticatedClient {
  client: ClientRecord;
  method: ClientAuthMethod;
  /** For private_key_jwt: the assertion's jti and exp, to be consumed once by the caller's replay ledger. */
  assertionReplayKey?: { jti: string; exp: number };
}

type Presented =
  | { method: "client_secret_basic" | "client_secret_post"; clientId: string; secret: string }
  | { method: "private_key_jwt"; clientId: string; assertion: UnverifiedClientAssertion };

/**
 * The schema's client_id syntax. Checked before the KV read, so an attacker-sized id never becomes
 * a KV key (limit 512 bytes) and a malformed one costs no lookup.
 */
const CLIENT_ID_SYNTAX = /^[\x21-\x7E]{1,255}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

const malformed = (detail: string) => refuse<ClientRefusal>({ reason: "client_auth_malformed", detail });

/**
 * Authenticates the client of a token request. Refusals name the failed rule for the audit event;
 * the wire answer is oauth/errors.ts's (generic `invalid_client`, or `invalid_request` for two
 * methods at once). Throws only if `loadClient` does.
 */
export async function authenticateClient(input: ClientAuthInput): Promise<Result<AuthenticatedClient, ClientRefusal>> {
  const presented = readCredentials(input);
  if (!presented.ok) return presented;
  const credentials = presented.value;
  if (!CLIENT_ID_SYNTAX.test(credentials.clientId)) return malformed("client_id_syntax");

  const loaded = await input.loadClient(credentials.clientId);
  // A record filed under another id is corrupt data; authenticating against it would be wrong.
  const client = loaded !== null && loaded.client_id === credentials.clientId ? loaded : null;

  if (credentials.method === "private_key_jwt") {
    const standing = checkStanding(client, credentials.method);
    if (!standing.ok) return standing;
    const verified = await verifyClientAssertion(
      credentials.assertion,
      standing.value.jwks?.keys ?? [],
      { issuer: input.issuer, tokenEndpoint: input.tokenEndpoint },
      input.now,
    );
    if (!verified.ok) return verified;
    return ok({ client: standing.value, method: credentials.method, assertionReplayKey: verified.value });
  }

  // Hash before deciding anything, and as much for an unknown client as for a real one, so the
  // response time does not say whether the client_id exists. Only a secret that matched before
  // (against these same hashes, within 15 s) skips the padded work.
  const hashes = client ? activeSecretHashes(client.client_secrets, input.now) : [];
  const matched = await checkClientSecret(credentials.clientId, credentials.secret, hashes, input.now);
  const standing = checkStanding(client, credentials.method);
  if (!standing.ok) return standing;
  if (!matched) return refuse({ reason: "client_secret_mismatch" });
  return ok({ client: standing.value, method: credentials.method });
}

function checkStanding(client: ClientRecord | null, method: ClientAuthMethod): Result<ClientRecord, ClientRefusal> {
  if (client === null) return refuse({ reason: "client_unknown" });
  if (client.status !== "active") return refuse({ reason: "client_disabled" });
  if (!client.token_endpoint_auth_methods.includes(method)) return refuse({ reason: "client_auth_method_not_allowed", method });
  return ok(client);
}

/** RFC 6749 §3.2: a parameter sent without a value is treated as omitted. */
function param(params: ReadonlyMap<string, string>, name: string): string | undefined {
  const value = params.get(name);
  return value === undefined || value === "" ? undefined : value;
}

/** Finds the one method the request uses and its credentials, without any lookup. */
function readCredentials(input: ClientAuthInput): Result<Presented, ClientRefusal> {
  const bodyClientId = param(input.params, "client_id");
  const secret = param(input.params, "client_secret");
  const assertion = param(input.params, "client_assertion");
  const assertionType = param(input.params, "client_assertion_type");
  const header = input.authorization !== null && input.authorization.trim() !== "" ? input.authorization.trim() : null;

  // RFC 6749 §2.3: "MUST NOT use more than one authentication method in each request". Any
  // Authorization header counts: a scheme we do not support is still an attempt to authenticate.
  const methods = [header !== null, secret !== undefined, assertion !== undefined || assertionType !== undefined];
  const count = methods.filter(Boolean).length;
  if (count > 1) return refuse({ reason: "client_auth_multiple_methods" });
  if (count === 0) return refuse({ reason: "client_auth_missing" });

  if (header !== null) {
    const basic = parseBasic(header);
    if (!basic.ok) return basic;
    if (bodyClientId !== undefined && bodyClientId !== basic.value.clientId) return malformed("client_id_mismatch");
    return ok({ method: "client_secret_basic", ...basic.value });
  }
  if (secret !== undefined) {
    if (bodyClientId === undefined) return malformed("client_id_missing");
    return ok({ method: "client_secret_post", clientId: bodyClientId, secret });
  }
  if (assertion === undefined) return malformed("client_assertion_missing");
  if (assertionType === undefined) return malformed("client_assertion_type_missing");
  const read = readClientAssertion(assertion, assertionType);
  if (!read.ok) return read;
  // RFC 7523 §3: the assertion names the client; a client_id sent beside it must agree.
  if (bodyClientId !== undefined && bodyClientId !== read.value.clientId) {
    return refuse({ reason: "client_assertion_invalid", detail: "client_id" });
  }
  return ok({ method: "private_key_jwt", clientId: read.value.clientId, assertion: read.value });
}

/**
 * RFC 6749 §2.3.1 / RFC 7617: `Basic base64(form-urlencode(id) ":" form-urlencode(secret))`. The
 * id is split at the first colon (an encoded id has none) and both halves are form-decoded.
 */
function parseBasic(header: string): Result<{ clientId: string; secret: string }, ClientRefusal> {
  const space = header.indexOf(" ");
  const scheme = space < 0 ? header : header.slice(0, space);
  if (scheme.toLowerCase() !== "basic") return malformed("authorization_scheme");
  const token = space < 0 ? "" : header.slice(space + 1).trim();
  if (!BASE64.test(token)) return malformed("basic_encoding");

  let decoded: string;
  try {
    decoded = utf8.decode(Uint8Array.from(atob(token), (c) => c.charCodeAt(0)));
  } catch {
    return malformed("basic_encoding");
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) return malformed("basic_no_colon");
  const clientId = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  if (clientId === undefined || secret === undefined) return malformed("basic_percent_encoding");
  if (clientId === "") return malformed("basic_client_id_empty");
  // An empty password is how some libraries send a public client's id: no credential at all.
  if (secret === "") return malformed("basic_secret_empty");
  return ok({ clientId, secret });
}

/** application/x-www-form-urlencoded decoding of one value; undefined on bad percent-encoding. */
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, " "));
  } catch {
    return undefined;
  }
}
