// The access-token verifier MCP servers import: RFC 9068 §4 checks of an ema-edge access token
// (typ, signature against the published JWKS, iss, aud, time, scope) and, given the KV binding,
// the revocation mirror; refusals become RFC 6750 §3 challenges carrying the RFC 9728
// `resource_metadata` MCP clients start discovery from. No introspection, no DPoP, no body tokens.
import { createLocalJWKSet, createRemoteJWKSet, customFetch, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { ok, refuse, type Result } from "./result";
import { isRevokedInMirror, MAX_ACCESS_TOKEN_TTL_SECONDS } from "./revocation-mirror";

/** What ema-edge signs with; never `none` or HMAC, whatever a token's header says (RFC 8725 §3.1). */
export const ACCESS_TOKEN_ALGORITHMS = ["ES256", "RS256", "EdDSA"] as const;
/** Default allowance for clock drift between ema-edge and the MCP server. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;
/**
 * The KV mirror keeps an entry 60 s past the last token it can refuse (revocation-mirror.ts); a
 * verifier accepting tokens longer past `exp` than that could outlive the entry that refuses them.
 */
export const MAX_CLOCK_TOLERANCE_SECONDS = 60;
/** Our tokens are well under 2 KiB; the cap stops crypto work on junk. */
export const MAX_ACCESS_TOKEN_BYTES = 8 * 1024;
/** KV's smallest edge-cache TTL, so the staleness bound of the mirror read. */
const DEFAULT_REVOCATION_CACHE_TTL_SECONDS = 30;
/** A key we do not know triggers at most one JWKS refetch per cooldown: random `kid`s must not hammer the AS. */
const JWKS_COOLDOWN_MS = 30_000;
const JWKS_MAX_AGE_MS = 10 * 60_000;
const JWKS_TIMEOUT_MS = 5_000;

// RFC 6750 §2.1 b64token; RFC 6749 §3.3 scope-token (so neither can break out of a quoted string).
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** The claims of an ema-edge access token (design.md, "Access token"), type-checked. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  client_id: string;
  scope: string;
  iat: number;
  exp: number;
  jti: string;
  /** The IdP that vouched for the user: MCP servers key users by (idp, sub). */
  idp: string;
  tenant?: string;
  auth_time?: number;
  act?: Record<string, unknown>;
  nbf?: number;
}

/** Why a token was refused; the names are the broken rule. */
export type TokenDefect =
  | { reason: "token_malformed" }
  | { reason: "typ_invalid" }
  | { reason: "alg_not_allowed" }
  | { reason: "key_unknown" }
  | { reason: "signature_invalid" }
  | { reason: "iss_mismatch" }
  | { reason: "aud_mismatch" }
  | { reason: "expired" }
  | { reason: "not_yet_valid" }
  | { reason: "issued_in_future" }
  | { reason: "lifetime_too_long" }
  | { reason: "claim_invalid"; claim: string }
  | { reason: "keys_unavailable" };

export interface TokenExpectations {
  issuer: string;
  /** Omitted only by the authorization server's own introspection, which checks the caller instead. */
  audience?: string;
  clockToleranceSeconds: number;
}

/**
 * Verifies a compact access token: `typ` at+jwt, an allowed alg with a key from `keys`, `iss`,
 * `aud` (when expected), `exp`/`nbf`/`iat` at `now` (epoch seconds), and the claim types. Throws
 * nothing for a bad token; `keys_unavailable` when the key set could not be fetched.
 */
export async function verifyAccessToken(token: string, keys: JWTVerifyGetKey, expected: TokenExpectations, now: number): Promise<Result<AccessTokenClaims, TokenDefect>> {
  if (token.length > MAX_ACCESS_TOKEN_BYTES || !B64TOKEN.test(token)) return refuse({ reason: "token_malformed" });
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, keys, {
      typ: "at+jwt", // jose also accepts application/at+jwt, case-insensitively (RFC 9068 §4)
      algorithms: [...ACCESS_TOKEN_ALGORITHMS],
      issuer: expected.issuer,
      ...(expected.audience !== undefined && { audience: expected.audience }),
      requiredClaims: ["iss", "sub", "aud", "client_id", "iat", "exp", "jti"],
      clockTolerance: expected.clockToleranceSeconds,
      currentDate: new Date(now * 1000),
    }));
  } catch (error) {
    return refuse(defectOf(error));
  }
  const claims = readClaims(payload);
  if (!claims.ok) return claims;
  // jose checks iat only with maxTokenAge. A future iat would slip past revoked_before (which
  // refuses tokens issued at or before it), and a lifetime beyond the policy maximum past the
  // mirror entry's expiry; ema-edge mints neither, so either means the token is not one of ours.
  if (claims.value.iat > now + expected.clockToleranceSeconds) return refuse({ reason: "issued_in_future" });
  if (claims.value.exp - claims.value.iat > MAX_ACCESS_TOKEN_TTL_SECONDS) return refuse({ reason: "lifetime_too_long" });
  return claims;
}

function defectOf(error: unknown): TokenDefect {
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return { reason: "expired" };
    case "ERR_JWT_CLAIM_VALIDATION_FAILED": {
      const claim = String((error as { claim?: unknown }).claim);
      if (claim === "typ") return { reason: "typ_invalid" };
      if (claim === "iss") return { reason: "iss_mismatch" };
      if (claim === "aud") return { reason: "aud_mismatch" };
      if (claim === "nbf") return { reason: "not_yet_valid" };
      return { reason: "claim_invalid", claim };
    }
    case "ERR_JOSE_ALG_NOT_ALLOWED":
    case "ERR_JOSE_NOT_SUPPORTED":
      return { reason: "alg_not_allowed" };
    case "ERR_JWKS_NO_MATCHING_KEY":
    case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
      return { reason: "key_unknown" };
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return { reason: "signature_invalid" };
    case "ERR_JWS_INVALID":
    case "ERR_JWT_INVALID":
      return { reason: "token_malformed" };
    default:
      // A failed JWKS fetch, a timeout, an unusable key set: nothing the token did wrong.
      return { reason: "keys_unavailable" };
  }
}

function readClaims(p: JWTPayload): Result<AccessTokenClaims, TokenDefect> {
  const bad = (claim: string) => refuse<TokenDefect>({ reason: "claim_invalid", claim });
  const text = (v: unknown) => typeof v === "string" && v.length > 0;
  const time = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  for (const claim of ["sub", "client_id", "jti", "idp"] as const) if (!text(p[claim])) return bad(claim);
  if (typeof p.scope !== "string") return bad("scope");
  if (!text(p.aud) && !(Array.isArray(p.aud) && p.aud.length > 0 && p.aud.every(text))) return bad("aud");
  for (const claim of ["iat", "exp"] as const) if (!time(p[claim])) return bad(claim);
  if (p.tenant !== undefined && !text(p.tenant)) return bad("tenant");
  if (p.auth_time !== undefined && !time(p.auth_time)) return bad("auth_time");
  if (p.act !== undefined && (typeof p.act !== "object" || p.act === null || Array.isArray(p.act))) return bad("act");
  return ok(p as unknown as AccessTokenClaims);
}

/** The space-delimited `scope` claim as a list. */
export const scopesOf = (claims: Pick<AccessTokenClaims, "scope">): string[] => claims.scope.split(" ").filter((s) => s !== "");

export interface AccessTokenVerifierOptions {
  /** ema-edge's issuer identifier, compared exactly with `iss`. */
  issuer: string;
  /** This MCP server's canonical resource URI, compared exactly with `aud` (RFC 8707). */
  resource: string;
  /** This server's Protected Resource Metadata URL (RFC 9728 §5.1), sent in every challenge. */
  resourceMetadataUrl: string;
  /** The published key set, or where to fetch it (ema-edge's `jwks_uri`). */
  jwks: JSONWebKeySet | { uri: string; fetch?: (url: string, init: RequestInit) => Promise<Response> };
  /** ema-edge's KV namespace: when given, tokens revoked in the mirror are refused. */
  revocations?: KVNamespace;
  /** How stale a mirror read may be (KV edge cache, ≥ 30). */
  revocationCacheTtlSeconds?: number;
  /** 0–60; default 30. */
  clockToleranceSeconds?: number;
}

export type VerifyReason = TokenDefect["reason"] | "token_missing" | "token_in_query" | "revoked" | "insufficient_scope" | "revocations_unavailable";

export type VerifyOutcome =
  | { ok: true; claims: AccessTokenClaims; scopes: string[] }
  /** `response` is ready to return; `reason` is for the server's own log. Neither holds the token. */
  | { ok: false; reason: VerifyReason; response: Response };

export interface AccessTokenVerifier {
  /** Checks the request's Bearer token and that it carries every scope in `requiredScopes`. */
  verify(request: Request, requiredScopes?: readonly string[]): Promise<VerifyOutcome>;
}

/**
 * Builds a verifier. Create it once per isolate and reuse it: a remote key set is cached inside
 * (refetched at most every 30 s for an unknown `kid`, at most 10 minutes old). Options are checked
 * here, so a misconfigured server fails at startup rather than on a request. Throws TypeError.
 */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier {
  const tolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  if (!Number.isInteger(tolerance) || tolerance < 0 || tolerance > MAX_CLOCK_TOLERANCE_SECONDS) {
    throw new TypeError(`clockToleranceSeconds must be an integer from 0 to ${MAX_CLOCK_TOLERANCE_SECONDS}`);
  }
  if (typeof options.issuer !== "string" || options.issuer === "") throw new TypeError("issuer is required");
  if (typeof options.resource !== "string" || options.resource === "") throw new TypeError("resource is required");
  const metadataUrl = absoluteUrl(options.resourceMetadataUrl, "resourceMetadataUrl");
  const cacheTtl = Math.max(DEFAULT_REVOCATION_CACHE_TTL_SECONDS, options.revocationCacheTtlSeconds ?? DEFAULT_REVOCATION_CACHE_TTL_SECONDS);
  const keys = keySetOf(options.jwks);
  const expected: TokenExpectations = { issuer: options.issuer, audience: options.resource, clockToleranceSeconds: tolerance };

  return {
    async verify(request, requiredScopes = []) {
      for (const scope of requiredScopes) if (!SCOPE_TOKEN.test(scope)) throw new TypeError("required scopes must be RFC 6749 scope-tokens");
      const now = Math.floor(Date.now() / 1000);
      const fail = (reason: VerifyReason) => ({ ok: false as const, reason, response: refusalResponse(reason, metadataUrl, requiredScopes) });

      // RFC 6750 §2.3 and MCP: a token in the URL has already leaked into logs and history.
      if (new URL(request.url).searchParams.has("access_token")) return fail("token_in_query");
      const token = bearerToken(request.headers.get("authorization"));
      if (token === undefined) return fail("token_missing");
      if (token === null) return fail("token_malformed");

      const verified = await verifyAccessToken(token, keys, expected, now);
      if (!verified.ok) return fail(verified.error.reason);
      const claims = verified.value;
      if (options.revocations) {
        let revoked: boolean;
        try {
          revoked = await isRevokedInMirror(options.revocations, claims, cacheTtl);
        } catch {
          return fail("revocations_unavailable"); // fail closed: a revoked user must not get through a KV outage
        }
        if (revoked) return fail("revoked");
      }
      const scopes = scopesOf(claims);
      if (!requiredScopes.every((s) => scopes.includes(s))) return fail("insufficient_scope");
      return { ok: true, claims, scopes };
    },
  };
}

function keySetOf(jwks: AccessTokenVerifierOptions["jwks"]): JWTVerifyGetKey {
  if ("keys" in jwks) return createLocalJWKSet(jwks);
  return createRemoteJWKSet(absoluteUrl(jwks.uri, "jwks.uri"), {
    cooldownDuration: JWKS_COOLDOWN_MS,
    cacheMaxAge: JWKS_MAX_AGE_MS,
    timeoutDuration: JWKS_TIMEOUT_MS,
    ...(jwks.fetch && { [customFetch]: jwks.fetch }),
  });
}

function absoluteUrl(value: string, name: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${name} must be an absolute URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new TypeError(`${name} must be an http(s) URL`);
  return url;
}

/** undefined: no Bearer credentials at all (none, or another scheme); null: Bearer, but malformed. */
function bearerToken(header: string | null): string | null | undefined {
  if (header === null) return undefined;
  const match = /^(\S+)(?: +(\S*))? *$/.exec(header);
  if (match === null) return /^bearer(\s|$)/i.test(header) ? null : undefined;
  if (match[1]!.toLowerCase() !== "bearer") return undefined;
  // An empty or odd token is verifyAccessToken's to refuse (token_malformed).
  return match[2] ?? "";
}

const DESCRIPTIONS: Partial<Record<VerifyReason, string>> = {
  token_in_query: "Send the access token in the Authorization header, never in the URL.",
  expired: "The access token has expired.",
  aud_mismatch: "The access token was not issued for this resource.",
  revoked: "The access token has been revoked.",
  insufficient_scope: "The access token lacks a scope this request needs.",
};

/**
 * RFC 6750 §3 with MCP's `resource_metadata`: no error code when no token came (§3.1), 403 with
 * the needed scopes for insufficient_scope, 503 (no challenge) when the server could not decide.
 */
function refusalResponse(reason: VerifyReason, metadataUrl: URL, requiredScopes: readonly string[]): Response {
  const headers = new Headers({ "Cache-Control": "no-store" });
  if (reason === "keys_unavailable" || reason === "revocations_unavailable") {
    headers.set("Retry-After", "5");
    headers.set("Content-Type", "application/json");
    return new Response(JSON.stringify({ error: "temporarily_unavailable" }), { status: 503, headers });
  }
  const params: [string, string][] = [];
  const error = reason === "token_missing" ? undefined : reason === "insufficient_scope" ? "insufficient_scope" : "invalid_token";
  if (error !== undefined) params.push(["error", error], ["error_description", DESCRIPTIONS[reason] ?? "The access token is not valid."]);
  // MCP: the scopes this request needs, so the client asks for them (not the token's, not more).
  if (requiredScopes.length > 0) params.push(["scope", requiredScopes.join(" ")]);
  params.push(["resource_metadata", metadataUrl.href]);
  headers.set("WWW-Authenticate", `Bearer ${params.map(([k, v]) => `${k}="${v.replace(/["\\]/g, "\\$&")}"`).join(", ")}`);
  if (error === undefined) return new Response(null, { status: 401, headers });
  headers.set("Content-Type", "application/json");
  const body = { error, error_description: params[1]![1] };
  return new Response(JSON.stringify(body), { status: error === "insufficient_scope" ? 403 : 401, headers });
}
