// The HTTP edge shared by the Okta Event Hook and Okta Universal Logout: one table from refusal
// reason to status and body, the audit line of a refused call, and a body reader with a cap. Okta
// reads only the status code of either answer, so bodies are small JSON for people debugging.
// (The SSF receiver answers in RFC 8935 `err` codes and keeps its own table.)
import { refuse, type Result } from "../../lib/result";
import { readBodyText } from "../../lib/body";
import type { LogoutRefusal } from "./logout-request";
import type { EnvelopeRefusal } from "./okta-events";

export type WebhookChannel = "okta_event_hook" | "universal_logout";

/** Everything the two endpoints refuse for, before or after the pure checks. */
export type WebhookRefusal =
  | { reason: "method_not_allowed"; method: string }
  /** No trusted issuer has this id, or it has not configured this channel: one answer for both. */
  | { reason: "issuer_unknown" }
  | { reason: "unsupported_content_type" }
  | { reason: "body_too_large"; maxBytes: number }
  | { reason: "body_not_utf8" }
  | { reason: "challenge_invalid" }
  | { reason: "secret_mismatch" }
  | { reason: "config_unavailable" }
  | { reason: "store_unavailable"; store: string }
  | EnvelopeRefusal
  | LogoutRefusal;

export type WebhookReason = WebhookRefusal["reason"];

interface WireRefusal {
  status: number;
  /** The reason is the body's `error`: the caller learns nothing it did not send. Otherwise generic. */
  public: boolean;
}

const GENERIC: Record<number, string> = {
  400: "invalid_request",
  401: "unauthorized",
  404: "not_found",
  405: "method_not_allowed",
  413: "payload_too_large",
  415: "unsupported_media_type",
  503: "temporarily_unavailable",
};

/**
 * Every reason's status. Okta retries only timeouts and 5xx, so 5xx means "not stored, send it
 * again" and 4xx means "this request is bogus" (reference §2.6). Authentication failures stay
 * generic: which JWT claim or which secret failed is for the audit line, not the caller.
 */
export const WEBHOOK_REASONS = {
  method_not_allowed: { status: 405, public: true },
  issuer_unknown: { status: 404, public: false },
  unsupported_content_type: { status: 415, public: true },
  body_too_large: { status: 413, public: true },
  body_not_utf8: { status: 400, public: true },
  challenge_invalid: { status: 400, public: true },
  secret_mismatch: { status: 401, public: false },
  config_unavailable: { status: 503, public: false },
  store_unavailable: { status: 503, public: false },
  // Okta Event Hook envelope (okta-events.ts).
  body_not_json: { status: 400, public: true },
  duplicate_json_member: { status: 400, public: true },
  envelope_not_object: { status: 400, public: true },
  envelope_type_invalid: { status: 400, public: true },
  envelope_version_unknown: { status: 400, public: true },
  hook_id_mismatch: { status: 400, public: true },
  events_not_array: { status: 400, public: true },
  // Universal Logout bearer JWT: every defect is 401 and reads the same (logout-request.ts).
  bearer_missing: { status: 401, public: false },
  token_malformed: { status: 401, public: false },
  typ_invalid: { status: 401, public: false },
  alg_not_allowed: { status: 401, public: false },
  crit_unsupported: { status: 401, public: false },
  kid_unknown: { status: 401, public: false },
  key_ambiguous: { status: 401, public: false },
  signature_invalid: { status: 401, public: false },
  claim_missing: { status: 401, public: false },
  iss_mismatch: { status: 401, public: false },
  aud_mismatch: { status: 401, public: false },
  sub_mismatch: { status: 401, public: false },
  expired: { status: 401, public: false },
  exp_too_far: { status: 401, public: false },
  not_yet_valid: { status: 401, public: false },
  issued_in_future: { status: 401, public: false },
  jti_reused: { status: 401, public: false },
  // The IdP's keys could not be fetched: our trouble, not a forged token.
  jwks_unavailable: { status: 503, public: false },
  // Universal Logout body.
  sub_id_missing: { status: 400, public: true },
  sub_id_format_unsupported: { status: 400, public: true },
  sub_id_invalid: { status: 400, public: true },
  subject_issuer_mismatch: { status: 400, public: true },
  subject_unknown: { status: 404, public: false },
} satisfies Record<WebhookReason, WireRefusal>;

/**
 * Answers a refused call and writes its one audit line: channel, request id and the precise reason
 * with its detail. Never the secret, the JWT or the body (the caller passes only the refusal).
 */
export function refuseWebhook(channel: WebhookChannel, requestId: string, refusal: WebhookRefusal): Response {
  const { reason, ...detail } = refusal;
  console.log(
    JSON.stringify({
      type: "ema.webhook",
      channel,
      request_id: requestId,
      outcome: "refused",
      reason,
      ...(Object.keys(detail).length > 0 && { detail }),
    }),
  );
  const wire: WireRefusal = WEBHOOK_REASONS[reason];
  const headers: Record<string, string> = { "Content-Type": "application/json", "Cache-Control": "no-store" };
  if (reason === "method_not_allowed") headers.Allow = channel === "okta_event_hook" ? "GET, POST" : "POST";
  // RFC 6750 §3: a 401 to a bearer request names the scheme.
  if (wire.status === 401 && channel === "universal_logout") headers["WWW-Authenticate"] = 'Bearer error="invalid_token"';
  const error = wire.public ? reason : (GENERIC[wire.status] ?? "error");
  return new Response(JSON.stringify({ error }), { status: wire.status, headers });
}

/** The media type of the request, lower-cased, without parameters ("" when absent). */
export function mediaType(request: Request): string {
  return (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
}

/** The body within `maxBytes` as UTF-8 (http/body.ts), as a webhook refusal otherwise. */
export async function readCappedText(request: Request, maxBytes: number): Promise<Result<string, WebhookRefusal>> {
  const body = await readBodyText(request, maxBytes);
  if (body.ok) return body;
  return refuse(body.error === "too_large" ? { reason: "body_too_large", maxBytes } : { reason: "body_not_utf8" });
}
