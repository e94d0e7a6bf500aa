// The admin API: POST /admin/revocations revokes a subject by hand (incident response, the CLI's
// `revoke`), through the same path as the IdP's signals. Authenticated by the ADMIN_TOKEN secret;
// without it, or with one too short to resist guessing, the route does not exist.
import { matchesSharedSecret, hashSharedSecret } from "../../lib/shared-secret";
import { parseStrictJson } from "../../lib/strict-json";
import { StoreUnavailableError } from "../../lib/store-error";
import { loadPolicy } from "../config/policy-store";
import type { Env } from "../env";
import { readBodyText } from "../../lib/body";
import { jsonNoStore } from "../oauth/errors";
import { applyRevocations } from "../revocation/apply";

/** `ema-edge admin-token generate` makes 43 characters (256 bits); anything under 32 is a typed password. */
export const MIN_ADMIN_TOKEN_LENGTH = 32;

/** A revocation request is a few hundred bytes. */
const MAX_ADMIN_BODY_BYTES = 4096;

export async function handleAdminRevocation(request: Request, env: Env, requestId: string): Promise<Response> {
  if (!env.ADMIN_TOKEN || env.ADMIN_TOKEN.length < MIN_ADMIN_TOKEN_LENGTH) return jsonNoStore({ error: "not_found" }, 404);
  if (request.method !== "POST") return jsonNoStore({ error: "method_not_allowed" }, 405, { Allow: "POST" });
  const bearer = /^Bearer (.+)$/.exec(request.headers.get("authorization") ?? "")?.[1] ?? null;
  if (!(await matchesSharedSecret(bearer, [await hashSharedSecret(env.ADMIN_TOKEN)]))) {
    return jsonNoStore({ error: "unauthorized" }, 401, { "WWW-Authenticate": 'Bearer realm="ema-edge-admin"' });
  }
  const text = await readBodyText(request, MAX_ADMIN_BODY_BYTES);
  const parsed = text.ok ? parseStrictJson(text.value) : undefined;
  const body = parsed?.ok ? (parsed.value as Record<string, unknown>) : undefined;
  const { iss, sub, tenant, reason } = body ?? {};
  const isText = (v: unknown, max: number) => typeof v === "string" && v.length > 0 && v.length <= max;
  if (!isText(iss, 2048) || !isText(sub, 1024) || (tenant !== undefined && !isText(tenant, 256)) || (reason !== undefined && !isText(reason, 200))) {
    return jsonNoStore({ error: "invalid_request", error_description: "Send JSON {iss, sub, tenant?, reason?}." }, 400);
  }
  const now = Math.floor(Date.now() / 1000);
  const policy = await loadPolicy(env.CONFIG, env.ISSUER, now);
  // No policy to check against is our trouble, not the caller's typo: retry, as for the shard.
  if (!policy.ok) return jsonNoStore({ error: "temporarily_unavailable" }, 503, { "Retry-After": "5" });
  // Refuse an issuer we do not trust: a typo must not look like a successful revocation.
  if (!policy.value.issuers.has(iss as string)) {
    return jsonNoStore({ error: "invalid_request", error_description: "iss is not a trusted issuer." }, 400);
  }
  try {
    const [applied] = await applyRevocations(
      env,
      [{ subject: { iss: iss as string, sub: sub as string, ...(tenant !== undefined && { tenant: tenant as string }) }, eventTime: now, channel: "admin", eventId: requestId, eventType: (reason as string | undefined) ?? "admin.revoke" }],
      now,
      requestId,
    );
    return jsonNoStore({ revoked_before: applied!.effective }, 200);
  } catch (error) {
    if (error instanceof StoreUnavailableError) return jsonNoStore({ error: "temporarily_unavailable" }, 503, { "Retry-After": "5" });
    throw error;
  }
}
