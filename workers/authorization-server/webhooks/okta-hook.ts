// GET and POST /hooks/okta/{issuer-id}: Okta Event Hooks (reference §2.2–§2.6, §8). GET answers the
// one-time verification challenge; POST authenticates a delivery by its header secret, turns its
// events into revocations (okta-events.ts) and acknowledges only once the SubjectShard committed
// them: Okta retries once, on a timeout or a 5xx only, so "not stored" must be a 5xx.
import { matchesSharedSecret } from "../../lib/shared-secret";
import { StoreUnavailableError } from "../../lib/store-error";
import { loadPolicy } from "../config/policy-store";
import type { Env } from "../env";
import { applyRevocations } from "../revocation/apply";
import { parseDelivery, readEvents, type OktaHookConfig, type SkippedEvent } from "./okta-events";
import { mediaType, readCappedText, refuseWebhook, type WebhookRefusal } from "./responses";

/** Okta batches events into one POST; 256 KiB holds hundreds of LogEvents (reference §8). */
export const MAX_HOOK_BODY_BYTES = 256 * 1024;
/** The challenge is an opaque token Okta generates; anything longer or unprintable is not Okta's. */
const CHALLENGE = /^[\x20-\x7e]{1,512}$/;
/** The audit line lists this many skipped events and counts the rest. */
const MAX_AUDITED_SKIPS = 50;

type Outcome = { ok: true; response: Response } | { ok: false; error: WebhookRefusal };

export async function handleOktaHook(request: Request, env: Env, _ctx: ExecutionContext, requestId: string, issuerId?: string): Promise<Response> {
  const now = Math.floor(Date.now() / 1000);
  const outcome = await answer(request, env, now, requestId, issuerId);
  return outcome.ok ? outcome.response : refuseWebhook("okta_event_hook", requestId, outcome.error);
}

async function answer(request: Request, env: Env, now: number, requestId: string, issuerId: string | undefined): Promise<Outcome> {
  if (request.method !== "GET" && request.method !== "POST") return fail({ reason: "method_not_allowed", method: request.method.slice(0, 16) });
  const policy = await loadPolicy(env.CONFIG, env.ISSUER, now);
  if (!policy.ok) return fail({ reason: "config_unavailable" });
  const issuer = issuerId === undefined ? undefined : policy.value.issuersById.get(issuerId);
  const config = issuer?.revocation?.okta_event_hook;
  // One answer for "no such id" and "id without a hook", so the URL space reveals no tenants.
  if (issuer === undefined || config === undefined) return fail({ reason: "issuer_unknown" });
  if (request.method === "GET") return verificationChallenge(request);
  return delivery(request, env, now, requestId, { issuer: issuer.issuer, ...(issuer.tenant !== undefined && { tenant: issuer.tenant }) }, config);
}

/**
 * Echoes `x-okta-verification-challenge` as `{"verification": …}` (§2.2). Answering proves only
 * that we control the URL, so no secret is needed; the value goes out JSON-encoded, never raw.
 */
function verificationChallenge(request: Request): Outcome {
  const challenge = request.headers.get("x-okta-verification-challenge");
  if (challenge === null || !CHALLENGE.test(challenge)) return fail({ reason: "challenge_invalid" });
  const response = new Response(JSON.stringify({ verification: challenge }), {
    status: 200,
    headers: { "Content-Type": "application/json", "Cache-Control": "no-store" },
  });
  return { ok: true, response };
}

async function delivery(request: Request, env: Env, now: number, requestId: string, issuer: { issuer: string; tenant?: string }, config: OktaHookConfig): Promise<Outcome> {
  if (mediaType(request) !== "application/json") return fail({ reason: "unsupported_content_type" });
  // The secret before the body: an unauthenticated sender gets no reading or parsing out of us.
  const presented = request.headers.get(config.header ?? "authorization");
  if (!(await matchesSharedSecret(presented, config.secret_sha256))) return fail({ reason: "secret_mismatch" });
  const text = await readCappedText(request, MAX_HOOK_BODY_BYTES);
  if (!text.ok) return text;
  const parsed = parseDelivery(text.value, config.hook_ids);
  if (!parsed.ok) return parsed;

  const { signals, skipped } = readEvents(parsed.value.events, issuer, config);
  if (signals.length > 0) {
    try {
      await applyRevocations(env, signals.map((s) => ({ ...s, channel: "okta_event_hook" as const })), now, requestId);
    } catch (error) {
      // Nothing is acknowledged: Okta's retry carries the whole batch again, and what did commit
      // is unchanged by it (revoked_before only grows). Anything else is a bug: the router's 500.
      if (error instanceof StoreUnavailableError) return fail({ reason: "store_unavailable", store: error.store });
      throw error;
    }
  }
  auditAccepted(requestId, parsed.value.deliveryId, parsed.value.events.length, signals.length, skipped);
  // Okta wants 200 or 204 with an empty body (§2.6).
  return { ok: true, response: new Response(null, { status: 204, headers: { "Cache-Control": "no-store" } }) };
}

/** The delivery's own line; applyRevocations wrote one per revocation already. */
function auditAccepted(requestId: string, deliveryId: string | undefined, events: number, signals: number, skipped: readonly SkippedEvent[]): void {
  console.log(
    JSON.stringify({
      type: "ema.webhook",
      channel: "okta_event_hook",
      request_id: requestId,
      outcome: "accepted",
      ...(deliveryId !== undefined && { delivery_id: deliveryId }),
      events,
      signals,
      skipped_count: skipped.length,
      skipped: skipped.slice(0, MAX_AUDITED_SKIPS).map((s) => ({ reason: s.reason, ...(s.uuid !== undefined && { uuid: s.uuid }), ...(s.eventType !== undefined && { event_type: s.eventType }) })),
    }),
  );
}

const fail = (error: WebhookRefusal): Outcome => ({ ok: false, error });
