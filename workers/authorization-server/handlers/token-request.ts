// The request half RFC 7662 introspection and RFC 7009 revocation share: a capped form with
// `token`, the caller authenticated like at the token endpoint (its client assertion spent), and
// one audit line per request that never holds the token.
import { ok, refuse, type Result } from "../../lib/result";
import { StoreUnavailableError } from "../../lib/store-error";
import { spendClientAssertion } from "../client/assertion-replay";
import { loadPolicy } from "../config/policy-store";
import { exceededTier } from "../http/rate-limit";
import { authenticateClient, type AuthenticatedClient } from "../client/authenticate";
import { loadClient } from "../config/client-store";
import type { Env } from "../env";
import { endpointUrl } from "../http/endpoints";
import { readForm } from "../http/form";
import { oauthErrorResponse } from "../oauth/errors";
import type { Refusal } from "../oauth/refusal";

/** A refusal of an introspection or revocation request. */
export type EndpointRefusal = Refusal;

export interface TokenEndpointRequest extends AuthenticatedClient {
  token: string;
  tokenTypeHint?: string;
}

/** What introspection and revocation log (never the token): the caller, the outcome and its cause. */
export interface EndpointAudit {
  type: "ema.introspection" | "ema.revocation";
  request_id: string;
  time: number;
  outcome: "refused" | "active" | "inactive" | "revoked" | "ignored";
  reason?: string;
  detail?: Record<string, unknown>;
  client_id?: string;
  client_auth_method?: string;
  /** Only once the token's signature has verified. */
  token_client_id?: string;
  iss?: string;
  tenant?: string;
  sub?: string;
  access_token_jti?: string;
  [extra: string]: unknown;
}

/**
 * The request half both endpoints share: a capped form, `token` present, the caller authenticated
 * (RFC 7662 §2.1, RFC 7009 §2.1) and, for private_key_jwt, its assertion spent (RFC 7523 §3).
 */
export async function readTokenRequest(request: Request, env: Env, now: number, audit: EndpointAudit): Promise<Result<TokenEndpointRequest, EndpointRefusal>> {
  const form = await readForm(request);
  if (!form.ok) return form;
  const params = form.value;
  const token = params.get("token");
  if (token === undefined) return refuse({ reason: "token_missing" });

  const authenticated = await authenticateClient({
    params,
    authorization: request.headers.get("authorization"),
    issuer: env.ISSUER,
    tokenEndpoint: endpointUrl(env.ISSUER, "token"),
    now,
    loadClient: (clientId) => loadClient(env.CONFIG, clientId, now),
  });
  if (!authenticated.ok) return authenticated;
  audit.client_id = authenticated.value.client.client_id;
  audit.client_auth_method = authenticated.value.method;
  // Introspection and revocation share one count; without a policy the default tier applies.
  const policy = await loadPolicy(env.CONFIG, env.ISSUER, now);
  const over = await exceededTier(env, policy.ok ? policy.value.doc : undefined, "introspection", "per_client", authenticated.value.client.client_id);
  if (over !== undefined) return refuse({ reason: "rate_limited", tier: over });
  const replayKey = authenticated.value.assertionReplayKey;
  if (replayKey !== undefined) {
    const fresh = await spendClientAssertion(env, authenticated.value.client.client_id, replayKey, now);
    if (!fresh.ok) return fresh;
  }
  const hint = params.get("token_type_hint");
  return ok({ ...authenticated.value, token, ...(hint !== undefined && { tokenTypeHint: hint }) });
}

/**
 * Runs `work`; a KV outage becomes config_unavailable (503), anything else is audited and rethrown.
 * Every endpoint that authenticates a client (token, introspection, revocation) runs inside it.
 */
export async function guarded<T>(work: () => Promise<Result<T, EndpointRefusal>>, audit: object): Promise<Result<T, EndpointRefusal>> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof StoreUnavailableError) return refuse({ reason: "config_unavailable", detail: error.store });
    console.log(JSON.stringify({ ...audit, reason: "server_error", detail: { error: error instanceof Error ? error.name : "unknown" } }));
    throw error;
  }
}

/** Audits a refusal and answers it in RFC 6749 §5.2 form (401 invalid_client, 400, 503…). */
export function refusalResponse(refusal: EndpointRefusal, audit: EndpointAudit): Response {
  const { reason, ...detail } = refusal;
  Object.assign(audit, { outcome: "refused", reason }, Object.keys(detail).length > 0 && { detail });
  console.log(JSON.stringify(audit));
  return oauthErrorResponse(refusal);
}
