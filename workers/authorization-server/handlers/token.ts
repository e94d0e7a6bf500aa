// POST /oauth2/token with the jwt-bearer grant and an ID-JAG (ID-JAG §4.4; EMA §5; RFC 7521/7523).
// Laid out as the numbered steps of spec notes §4: cheap checks first, nothing from the assertion
// trusted before its signature verifies, state touched once and last, so a refusal spends nothing.
import { sha256Base64Url } from "../../lib/digest";
import { DEFAULT_ACCESS_TOKEN_TTL_SECONDS } from "../../lib/kv-records";
import { ok, refuse, type Result } from "../../lib/result";
import { emitAudit } from "../audit/event";
import { guarded } from "./token-request";
import { jsonNoStore, oauthErrorResponse } from "../oauth/errors";
import {
  checkAudience,
  checkClientBinding,
  checkLifetime,
  checkValidityWindow,
  CLOCK_SKEW_SECONDS,
  DEFAULT_MAX_ASSERTION_LIFETIME_SECONDS,
  readIdJagClaims,
  readSubjectAttributes,
  type IdJagClaims,
} from "../assertion/claims";
import { checkIdJagHeader } from "../assertion/header";
import { parseCompactJws } from "../assertion/jws";
import { bindResource } from "../assertion/resource";
import { intersectScopes, parseScope } from "../assertion/scope";
import { verifySignature } from "../assertion/signature";
import { resolveIssuer } from "../assertion/trust";
import type { AuditEvent } from "../audit/event";
import { authenticateClient } from "../client/authenticate";
import { loadClient } from "../config/client-store";
import { exceededTier } from "../http/rate-limit";
import { loadPolicy } from "../config/policy-store";
import type { Env } from "../env";
import { endpointUrl } from "../http/endpoints";
import { readForm, type FormParams } from "../http/form";
import { resolveVerificationKey } from "../jwks/cache";
import type { Refusal } from "../oauth/refusal";
import { applyPolicy, applyScopeConditions, type PolicySubject } from "../policy/evaluate";
import { emailIndexKey } from "../../lib/revocation-mirror";
import { spendClientAssertion, stateUnavailable } from "../client/assertion-replay";
import { addressSubject, subjectString } from "../revocation/shard-key";
import { mintAccessToken } from "../tokens/access-token";
import { loadSigningKeys } from "../tokens/signing-keys";

export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** ID-JAGs are a few hundred bytes to a few KiB; the cap stops crypto work on junk (spec notes §4.1). */
export const MAX_ASSERTION_BYTES = 16 * 1024;
/** Okta's and most IdPs' name for the groups claim. */
export const DEFAULT_GROUPS_CLAIM = "groups";

/** The HTTP edge of the token endpoint: reads the clock once, answers, and writes the audit line. */
export async function handleTokenRequest(request: Request, env: Env, requestId: string, ctx?: ExecutionContext): Promise<Response> {
  const now = Math.floor(Date.now() / 1000);
  const audit: AuditEvent = { type: "ema.token", request_id: requestId, time: now, decision: "refused" };
  const result = await guarded(() => exchangeIdJag(request, env, now, audit, ctx), audit);
  if (result.ok) {
    audit.decision = "granted";
    emitAudit(audit);
    return jsonNoStore(result.value, 200);
  }
  const { reason, ...detail } = result.error;
  audit.reason = reason;
  if (Object.keys(detail).length > 0) audit.detail = detail;
  emitAudit(audit);
  return oauthErrorResponse(result.error);
}

export interface TokenSuccess {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  scope: string;
  resource: string;
}

/**
 * Runs the exchange. Fills `audit` as facts become known (verified claims only) and returns the
 * token response body or the refusal; the caller turns either into HTTP.
 */
export async function exchangeIdJag(request: Request, env: Env, now: number, audit: AuditEvent, ctx?: ExecutionContext): Promise<Result<TokenSuccess, Refusal>> {
  // 1. Request shape: POST, form body within its cap, one value per parameter, the grant type.
  const form = await readForm(request);
  if (!form.ok) return form;
  const params = form.value;
  const shape = checkGrantRequest(params);
  if (!shape.ok) return shape;

  // 2. Client authentication, and the client's permission to use this grant.
  const policy = await loadPolicy(env.CONFIG, env.ISSUER, now);
  if (!policy.ok) return policy;
  const tokenEndpoint = endpointUrl(env.ISSUER, "token");
  const authenticated = await authenticateClient({
    params,
    authorization: request.headers.get("authorization"),
    issuer: env.ISSUER,
    tokenEndpoint,
    now,
    loadClient: (clientId) => loadClient(env.CONFIG, clientId, now),
  });
  if (!authenticated.ok) return authenticated;
  const { client } = authenticated.value;
  audit.client_id = client.client_id;
  audit.client_auth_method = authenticated.value.method;
  if (!client.grant_types.includes(JWT_BEARER_GRANT)) return refuse({ reason: "client_not_authorized_for_grant" });
  const over = await exceededTier(env, policy.value.doc, "token", "per_client", client.client_id);
  if (over !== undefined) return refuse({ reason: "rate_limited", tier: over });
  // A client assertion is spent as soon as it has authenticated: a replayed one must learn nothing
  // about the ID-JAG, nor spend it. (A second Durable Object call, on the private_key_jwt path only.)
  const replayKey = authenticated.value.assertionReplayKey;
  if (replayKey !== undefined) {
    const fresh = await spendClientAssertion(env, client.client_id, replayKey, now);
    if (!fresh.ok) return fresh;
  }

  // 3–4. Compact JWS structure, then the header: explicit typ, an asymmetric alg.
  const jws = parseCompactJws(shape.value.assertion);
  if (!jws.ok) return jws;
  const header = checkIdJagHeader(jws.value.header);
  if (!header.ok) return header;

  // Claim types and the validity window, before the issuer is looked up, so an expired or malformed
  // assertion reads the same whether or not its issuer is trusted.
  const unverified = readIdJagClaims(jws.value.payload);
  if (!unverified.ok) return unverified;
  const window = checkValidityWindow(unverified.value, now);
  if (!window.ok) return window;

  // 5. Issuer trust: exact iss, the issuer's algorithms, its tenant.
  const issuer = resolveIssuer(unverified.value, header.value.alg, policy.value.issuers, env.ISSUER);
  if (!issuer.ok) return issuer;

  // 6. Signature, with a key from that issuer's JWKS only.
  const key = await resolveVerificationKey(issuer.value, header.value, { kv: env.CONFIG, fetch, now, ...(ctx && { waitUntil: (p: Promise<unknown>) => ctx.waitUntil(p) }) });
  if (!key.ok) return key;
  const signature = await verifySignature(jws.value.compact, key.value, header.value.alg);
  if (!signature.ok) return signature;
  const claims = unverified.value;
  Object.assign(audit, { iss: claims.iss, sub: claims.sub, tenant: claims.tenant, act: claims.act, jti_sha256: await sha256Base64Url(claims.jti) });

  // 7–9. Audience, client binding, the issuer's lifetime ceiling.
  const bound = chain(
    checkAudience(claims, policy.value.audiences),
    () => checkClientBinding(claims, client.client_id),
    () => checkLifetime(claims, issuer.value.max_assertion_lifetime_seconds ?? DEFAULT_MAX_ASSERTION_LIFETIME_SECONDS),
  );
  if (!bound.ok) return bound;

  // 11. Resource: ours, within the grant, allowed for this client.
  const resource = bindResource(claims.resource, shape.value.resource, issuer.value, policy.value.resources);
  if (!resource.ok) return resource;
  audit.resource = resource.value.resource;
  if (client.allowed_resources !== undefined && !client.allowed_resources.includes(resource.value.resource)) {
    return refuse({ reason: "client_resource_not_allowed", resource: resource.value.resource });
  }

  // 12. Group policy and scope: rule-allowed ∩ ID-JAG scope ∩ requested scope, then the step-up
  // conditions of sensitive scopes.
  const attributes = readSubjectAttributes(jws.value.payload, issuer.value.groups_claim ?? DEFAULT_GROUPS_CLAIM);
  if (!attributes.ok) return attributes;
  const subject: PolicySubject = {
    issuer: issuer.value,
    clientId: client.client_id,
    groups: attributes.value.groups,
    ...(claims.tenant !== undefined && { tenant: claims.tenant }),
    ...(attributes.value.email !== undefined && { email: attributes.value.email }),
    ...(attributes.value.amr !== undefined && { amr: attributes.value.amr }),
    ...(claims.auth_time !== undefined && { authTime: claims.auth_time }),
  };
  audit.policy_version = policy.value.doc.version;
  audit.policy_sha256 = policy.value.sha256;
  const decision = applyPolicy(policy.value.doc.rules, subject, resource.value);
  if (!decision.ok) return decision;
  audit.rules = decision.value.ruleIds;
  const assertionScopes = claims.scope === undefined ? undefined : parseScope(claims.scope);
  if (assertionScopes === undefined && claims.scope !== undefined) return refuse({ reason: "scope_malformed" });
  const intersected = intersectScopes(resource.value, { allowed: decision.value.allowed, assertion: assertionScopes, requested: shape.value.scopes });
  const { granted, dropped } = applyScopeConditions(resource.value, intersected, subject, now);
  if (dropped.length > 0) audit.dropped_scopes = dropped;
  // Nothing left: the client's fault when it asked for scopes (invalid_scope), else the grant's.
  if (granted.length === 0) return refuse({ reason: shape.value.scopes === undefined ? "scope_not_granted" : "scope_empty" });
  audit.scopes = granted;

  // 10. Revocation and single use, in one atomic SubjectShard call. The signing keys load first, so
  // a broken secret cannot spend an ID-JAG and then fail.
  const signingKeys = await loadSigningKeys(env.AT_SIGNING_KEYS);
  const spent = await spendOnce(env, claims, attributes.value.email, now);
  if (!spent.ok) return spent;

  // 17. Mint the access token.
  const ttl = resource.value.access_token_ttl_seconds ?? DEFAULT_ACCESS_TOKEN_TTL_SECONDS;
  const minted = await mintAccessToken(
    {
      issuer: env.ISSUER,
      idp: claims.iss,
      sub: claims.sub,
      clientId: client.client_id,
      resource: resource.value.resource,
      scopes: granted,
      ttlSeconds: ttl,
      ...(claims.auth_time !== undefined && { authTime: claims.auth_time }),
      ...(claims.tenant !== undefined && { tenant: claims.tenant }),
      ...(claims.act !== undefined && { act: claims.act }),
    },
    signingKeys,
    now,
  );
  audit.access_token_jti = minted.jti;
  audit.access_token_exp = minted.exp;
  return ok({ access_token: minted.token, token_type: "Bearer", expires_in: ttl, scope: granted.join(" "), resource: resource.value.resource });
}

interface GrantRequest {
  assertion: string;
  scopes?: string[];
  resource?: string;
}

function checkGrantRequest(params: FormParams): Result<GrantRequest, Refusal> {
  const grantType = params.get("grant_type");
  if (grantType === undefined) return refuse({ reason: "grant_type_missing" });
  if (grantType !== JWT_BEARER_GRANT) return refuse({ reason: "unsupported_grant_type" });
  const assertion = params.get("assertion");
  if (assertion === undefined) return refuse({ reason: "assertion_missing" });
  const bytes = new TextEncoder().encode(assertion).byteLength;
  if (bytes > MAX_ASSERTION_BYTES) return refuse({ reason: "assertion_too_large", bytes, maxBytes: MAX_ASSERTION_BYTES });
  const scope = params.get("scope");
  const scopes = scope === undefined ? undefined : parseScope(scope);
  if (scope !== undefined && scopes === undefined) return refuse({ reason: "scope_parameter_malformed" });
  const resource = params.get("resource");
  return ok({ assertion, ...(scopes !== undefined && { scopes }), ...(resource !== undefined && { resource }) });
}

/** Runs checks in order and stops at the first refusal. */
function chain<T, E>(first: Result<T, E>, ...rest: (() => Result<T, E>)[]): Result<T, E> {
  let result = first;
  for (const next of rest) {
    if (!result.ok) return result;
    result = next();
  }
  return result;
}

/** Spends the ID-JAG's jti and checks the subject's revocation: one atomic SubjectShard call. */
async function spendOnce(env: Env, claims: IdJagClaims, email: string | undefined, now: number): Promise<Result<true, Refusal>> {
  try {
    // Independent digests: one await for all of them, not one each.
    const [address, jtiKey, emailKey] = await Promise.all([
      addressSubject(claims),
      sha256Base64Url(`${subjectString(claims)}\n${claims.jti}`),
      email === undefined ? undefined : emailIndexKey(claims.iss, email),
    ]);
    const shard = env.SUBJECT_SHARD.get(env.SUBJECT_SHARD.idFromName(address.shardName));
    const subject = { iss: claims.iss, sub: claims.sub, ...(claims.tenant !== undefined && { tenant: claims.tenant }) };
    const emailIndex = emailKey === undefined ? undefined : { kvKey: emailKey, value: JSON.stringify(subject) };
    const outcome = await shard.redeem({ subjectKey: address.subjectKey, jtiKey, forgetAfter: claims.exp + CLOCK_SKEW_SECONDS, iat: claims.iat, now }, emailIndex);
    if (outcome.ok) return ok(true);
    return refuse(outcome.reason === "replayed" ? { reason: "replayed" } : { reason: "subject_revoked", revokedBefore: outcome.revokedBefore });
  } catch (error) {
    return stateUnavailable(error);
  }
}

