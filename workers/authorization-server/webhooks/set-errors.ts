// Every reason the SET push receiver refuses a delivery for, and its one wire form: 400 with the
// registered `err` code (RFC 8935 §2.3, IANA "Security Event Token Error Codes", SSF 1.0 adds
// `invalid_state`), or a plain HTTP status for problems that are not about the SET (§2.3 last
// paragraph). Descriptions name the broken rule and never echo anything the transmitter sent.

/** The registered `err` values; nothing else may appear on the wire. */
export type SetErrorCode =
  | "invalid_request"
  | "invalid_key"
  | "invalid_issuer"
  | "invalid_audience"
  | "authentication_failed"
  | "access_denied"
  | "invalid_state";

/** Each code's registered meaning, for the code's generic description. */
export const SET_ERROR_TEXT = {
  invalid_request: "The request body cannot be parsed as a SET, or the event does not conform to its definition.",
  invalid_key: "The key used to sign the SET is invalid or unacceptable.",
  invalid_issuer: "The SET issuer is not the transmitter configured for this stream.",
  invalid_audience: "The SET audience does not include this receiver.",
  authentication_failed: "The transmitter could not be authenticated.",
  access_denied: "The transmitter is not allowed to send this SET.",
  invalid_state: "The verification state does not match.",
} as const satisfies Record<SetErrorCode, string>;

export type SetRefusal =
  // Not about the SET: plain HTTP statuses.
  | { reason: "method_not_allowed" }
  | { reason: "stream_unknown" }
  | { reason: "body_too_large"; maxBytes: number }
  | { reason: "config_unavailable" }
  | { reason: "jwks_unavailable" }
  | { reason: "store_unavailable"; store: string }
  // The request and the SET's structure.
  | { reason: "content_type_invalid" }
  | { reason: "authorization_invalid" }
  | { reason: "jws_malformed"; detail: string }
  | { reason: "jwe_unsupported" }
  | { reason: "duplicate_json_member"; part: "header" | "payload" }
  | { reason: "typ_invalid" }
  | { reason: "crit_unsupported" }
  // Keys and signature.
  | { reason: "alg_not_allowed"; alg: string | null }
  | { reason: "kid_missing" }
  | { reason: "kid_unknown" }
  | { reason: "key_ambiguous" }
  | { reason: "signature_invalid" }
  // Claims.
  | { reason: "iss_mismatch" }
  | { reason: "aud_mismatch" }
  | { reason: "claim_missing"; claim: string }
  | { reason: "claim_invalid"; claim: string }
  | { reason: "claim_forbidden"; claim: "sub" | "exp" }
  | { reason: "events_invalid"; detail: string }
  | { reason: "events_multiple"; count: number }
  | { reason: "subject_missing" }
  | { reason: "subject_invalid"; detail: string }
  | { reason: "event_time_invalid" }
  | { reason: "event_invalid"; detail: string }
  // What the event names.
  | { reason: "stream_subject_mismatch" }
  | { reason: "subject_foreign" };

export type SetReason = SetRefusal["reason"];

type WireForm = { status: 400; err: SetErrorCode; description?: string } | { status: 404 | 405 | 413 | 503 };

/** Reason → wire. A new reason does not compile until it is mapped here. */
const REASONS = {
  method_not_allowed: { status: 405 },
  stream_unknown: { status: 404 },
  body_too_large: { status: 413 },
  config_unavailable: { status: 503 },
  jwks_unavailable: { status: 503 },
  store_unavailable: { status: 503 },
  content_type_invalid: { status: 400, err: "invalid_request", description: "Content-Type must be application/secevent+jwt." },
  authorization_invalid: { status: 400, err: "authentication_failed" },
  jws_malformed: { status: 400, err: "invalid_request", description: "The body is not a compact JWS." },
  jwe_unsupported: { status: 400, err: "invalid_request", description: "Encrypted SETs are not accepted." },
  duplicate_json_member: { status: 400, err: "invalid_request", description: "The SET repeats a JSON member name." },
  typ_invalid: { status: 400, err: "invalid_request", description: "The JOSE header typ must be secevent+jwt." },
  crit_unsupported: { status: 400, err: "invalid_request", description: "The JOSE header crit is not supported." },
  // Which of the key checks failed stays private: the transmitter learns only that its key is not accepted.
  alg_not_allowed: { status: 400, err: "invalid_key" },
  kid_missing: { status: 400, err: "invalid_key" },
  kid_unknown: { status: 400, err: "invalid_key" },
  key_ambiguous: { status: 400, err: "invalid_key" },
  signature_invalid: { status: 400, err: "invalid_key" },
  iss_mismatch: { status: 400, err: "invalid_issuer" },
  aud_mismatch: { status: 400, err: "invalid_audience" },
  claim_missing: { status: 400, err: "invalid_request", description: "The SET lacks a required claim (iat, jti or events)." },
  claim_invalid: { status: 400, err: "invalid_request", description: "A SET claim has the wrong type or size." },
  claim_forbidden: { status: 400, err: "invalid_request", description: "SSF 1.0 SETs must not carry sub or exp." },
  events_invalid: { status: 400, err: "invalid_request", description: "events must be an object holding an event object." },
  events_multiple: { status: 400, err: "invalid_request", description: "A SET must carry exactly one event." },
  subject_missing: { status: 400, err: "invalid_request", description: "The SET names no subject (sub_id or the event's subject)." },
  subject_invalid: { status: 400, err: "invalid_request", description: "The subject identifier is malformed." },
  event_time_invalid: { status: 400, err: "invalid_request", description: "The event time must be a non-negative NumericDate." },
  event_invalid: { status: 400, err: "invalid_request", description: "The event does not conform to its definition." },
  stream_subject_mismatch: { status: 400, err: "invalid_request", description: "A stream event's subject must be this stream's opaque id." },
  subject_foreign: { status: 400, err: "access_denied", description: "The subject belongs to an issuer this stream does not speak for." },
} as const satisfies Record<SetReason, WireForm>;

/** The `err` code a refusal is sent with, or undefined for a plain HTTP status. */
export function setErrorCode(refusal: SetRefusal): SetErrorCode | undefined {
  const wire: WireForm = REASONS[refusal.reason];
  return wire.status === 400 ? wire.err : undefined;
}

/** The HTTP answer for a refusal: RFC 8935 §2.3's JSON body for SET errors, an empty body otherwise. */
export function setRefusalResponse(refusal: SetRefusal): Response {
  const wire: WireForm = REASONS[refusal.reason];
  if (wire.status !== 400) {
    const headers: Record<string, string> = wire.status === 405 ? { Allow: "POST" } : {};
    return new Response(null, { status: wire.status, headers });
  }
  const body = { err: wire.err, description: wire.description ?? SET_ERROR_TEXT[wire.err] };
  return new Response(JSON.stringify(body), { status: 400, headers: { "Content-Type": "application/json" } });
}
