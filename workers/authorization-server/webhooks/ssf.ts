// POST /ssf/{issuer-id}: the Shared Signals push receiver (RFC 8935, SSF 1.0). Authenticates the
// transmitter (the stream's authorization header, then the SET signature against its JWKS through
// the shared JWKS cache), validates the SET (set.ts), decides what its event means (ssf-events.ts)
// and answers 202 only once a revocation has committed in the SubjectShard. Poll delivery
// (RFC 8936), encrypted SETs and stream management calls to the transmitter are not implemented.
import type { SignatureAlgorithm, TrustedIssuer } from "../../lib/kv-records";
import { emailIndexKey, type SubjectRef } from "../../lib/revocation-mirror";
import { ok, refuse, type Result } from "../../lib/result";
import { matchesSharedSecret } from "../../lib/shared-secret";
import { StoreUnavailableError } from "../../lib/store-error";
import { parseCompactJws } from "../assertion/jws";
import { verifySignature } from "../assertion/signature";
import { loadPolicy } from "../config/policy-store";
import type { Env } from "../env";
import type { StructureRefusal } from "../oauth/refusal";
import { resolveVerificationKey } from "../jwks/cache";
import { applyRevocations } from "../revocation/apply";
import { checkSetHeader, validateSetClaims, type ValidatedSet } from "./set";
import { setErrorCode, setRefusalResponse, type SetRefusal } from "./set-errors";
import { checkStreamSubject, classifyEvent, targetOf, type IgnoreWhy, type RevocationTarget, type StreamStatus } from "./ssf-events";
import { readBodyText } from "../../lib/body";

/** A SET is a few KB; the cap applies while reading, so a sender cannot make us buffer more (§8). */
export const MAX_SET_BYTES = 64 * 1024;
/** The CAEP Interoperability Profile's one algorithm, when the stream names none. */
const DEFAULT_SET_ALGORITHMS: readonly SignatureAlgorithm[] = ["RS256"];
const SET_MEDIA_TYPE = "application/secevent+jwt";

type SsfConfig = NonNullable<NonNullable<TrustedIssuer["revocation"]>["ssf"]>;
interface Stream {
  idp: TrustedIssuer;
  ssf: SsfConfig;
}

/** What a delivery came to, for the audit line; a revocation's own line comes from applyRevocations. */
type Handled =
  | { kind: "revoked" }
  | { kind: "verification"; eventId: string }
  | { kind: "stream_updated"; eventId: string; status: StreamStatus }
  | { kind: "ignored"; eventId: string; eventType: string; why: IgnoreWhy };

export async function handleSsfPush(request: Request, env: Env, _ctx: ExecutionContext, requestId: string, issuerId?: string): Promise<Response> {
  const now = Math.floor(Date.now() / 1000);
  let result: Result<Handled, SetRefusal>;
  try {
    result = await receive(request, env, requestId, issuerId, now);
  } catch (error) {
    // Not acknowledged, so the transmitter retries; anything else is a bug for the router's catch.
    if (!(error instanceof StoreUnavailableError)) throw error;
    result = refuse({ reason: "store_unavailable", store: error.store });
  }
  if (!result.ok) {
    const err = setErrorCode(result.error);
    audit({ request_id: requestId, outcome: "refused", ...(err !== undefined && { err }), ...result.error });
    return setRefusalResponse(result.error);
  }
  if (result.value.kind !== "revoked") audit(auditFields(requestId, result.value));
  return new Response(null, { status: 202 });
}

async function receive(request: Request, env: Env, requestId: string, issuerId: string | undefined, now: number): Promise<Result<Handled, SetRefusal>> {
  // 1. RFC 8935 §2: SETs arrive by POST only.
  if (request.method !== "POST") return refuse({ reason: "method_not_allowed" });

  // 2. The stream this URL names. Unknown ids and issuers without SSF read the same.
  const stream = await findStream(env, issuerId, now);
  if (!stream.ok) return stream;
  const { idp, ssf } = stream.value;

  // 3. The stream's authorization_header, when configured. A wrong one is answered 400
  //    `authentication_failed`, not 401: RFC 8935 §2.3 registers that code for exactly this, SSF
  //    transmitters act on `err`, and a 401 would carry no reason they recognise.
  if (ssf.authorization_sha256 !== undefined && !(await matchesSharedSecret(request.headers.get("authorization"), ssf.authorization_sha256))) {
    return refuse({ reason: "authorization_invalid" });
  }

  // 4. Media type and size, before the body is buffered.
  const mediaType = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (mediaType !== SET_MEDIA_TYPE) return refuse({ reason: "content_type_invalid" });
  const body = await readSetBody(request);
  if (!body.ok) return body;

  // 5. Structure, header, the transmitter's key and the signature.
  const jws = parseCompactJws(body.value.trim());
  if (!jws.ok) return refuse(structureRefusal(jws.error));
  const header = checkSetHeader(jws.value.header, ssf.algorithms ?? DEFAULT_SET_ALGORITHMS);
  if (!header.ok) return header;
  // The transmitter as the JWKS cache knows issuers: without a jwks_uri, its metadata is discovered.
  const jwksUri = ssf.jwks_uri ?? idp.jwks_uri;
  const transmitter: TrustedIssuer = {
    id: `${idp.id}#ssf`,
    issuer: ssf.transmitter_issuer ?? idp.issuer,
    ...(jwksUri !== undefined && { jwks_uri: jwksUri }),
    algorithms: [header.value.alg],
  };
  const key = await resolveVerificationKey(transmitter, header.value, { kv: env.CONFIG, fetch, now });
  if (!key.ok) {
    const why = key.error.reason;
    return refuse(why === "jwks_unavailable" ? { reason: "jwks_unavailable" } : why === "key_ambiguous" ? { reason: "key_ambiguous" } : { reason: "kid_unknown" });
  }
  const verified = await verifySignature(jws.value.compact, key.value, header.value.alg);
  if (!verified.ok) return refuse({ reason: "signature_invalid" });

  // 6. Claims: issuer, audience, the one event, its subject and time.
  const set = validateSetClaims(jws.value.payload, { issuer: transmitter.issuer, audience: ssf.audience ?? env.ISSUER });
  if (!set.ok) return set;

  // 7. What the event means, and acting on it.
  return act(env, set.value, stream.value, requestId, now);
}

async function act(env: Env, set: ValidatedSet, { idp, ssf }: Stream, requestId: string, now: number): Promise<Result<Handled, SetRefusal>> {
  const action = classifyEvent(set.eventType, set.event);
  if (!action.ok) return action;
  const ignored = (why: IgnoreWhy): Result<Handled, SetRefusal> => ok({ kind: "ignored", eventId: set.jti, eventType: set.eventType, why });
  switch (action.value.kind) {
    case "ignore":
      return ignored(action.value.why);
    case "verification":
    case "stream_updated": {
      const stream = checkStreamSubject(set.subject, ssf.stream_id);
      if (!stream.ok) return stream;
      return ok(action.value.kind === "verification" ? { kind: "verification", eventId: set.jti } : { kind: "stream_updated", eventId: set.jti, status: action.value.status });
    }
    case "revoke": {
      const target = targetOf(set.subject, { issuer: idp.issuer, ...(idp.tenant !== undefined && { tenant: idp.tenant }) });
      if (!target.ok) return target;
      const subject = await subjectOf(env, target.value, idp);
      if (subject.kind === "ignore") return ignored(subject.why);
      // Throws StoreUnavailableError unless the SubjectShard committed; a repeated jti changes nothing.
      await applyRevocations(env, [{ subject: subject.subject, eventTime: set.eventTime, channel: "ssf", eventId: set.jti, eventType: set.eventType }], now, requestId);
      return ok({ kind: "revoked" });
    }
  }
}

function structureRefusal(error: StructureRefusal): SetRefusal {
  switch (error.reason) {
    case "jwe_unsupported":
      return { reason: "jwe_unsupported" };
    case "duplicate_json_member":
      return { reason: "duplicate_json_member", part: error.part };
    case "jws_malformed":
      return { reason: "jws_malformed", detail: error.detail };
    default:
      return { reason: "jws_malformed", detail: error.reason };
  }
}

async function findStream(env: Env, issuerId: string | undefined, now: number): Promise<Result<Stream, SetRefusal>> {
  const policy = await loadPolicy(env.CONFIG, env.ISSUER, now);
  if (!policy.ok) return refuse({ reason: "config_unavailable" });
  const idp = issuerId === undefined ? undefined : policy.value.issuersById.get(issuerId);
  const ssf = idp?.revocation?.ssf;
  return idp === undefined || ssf === undefined ? refuse({ reason: "stream_unknown" }) : ok({ idp, ssf });
}

/**
 * An email subject names whoever first exchanged an ID-JAG with that email (the index the
 * SubjectShard writes); nobody known means nobody holds a token to refuse. A KV failure throws,
 * so the delivery is retried rather than dropped.
 */
async function subjectOf(env: Env, target: RevocationTarget, idp: TrustedIssuer): Promise<{ kind: "subject"; subject: SubjectRef } | { kind: "ignore"; why: IgnoreWhy }> {
  if (target.kind !== "email") return target;
  let indexed: unknown;
  try {
    indexed = await env.CONFIG.get(await emailIndexKey(idp.issuer, target.email), "json");
  } catch {
    throw new StoreUnavailableError("kv");
  }
  const ref = indexed as Partial<SubjectRef> | null;
  const matches =
    ref !== null && typeof ref === "object" && ref.iss === idp.issuer && typeof ref.sub === "string" && ref.sub.length > 0 && (idp.tenant === undefined || ref.tenant === idp.tenant);
  if (!matches) return { kind: "ignore", why: "subject_unknown" };
  return { kind: "subject", subject: { iss: ref.iss!, sub: ref.sub!, ...(typeof ref.tenant === "string" && { tenant: ref.tenant }) } };
}


function auditFields(requestId: string, handled: Exclude<Handled, { kind: "revoked" }>): Record<string, unknown> {
  const base = { request_id: requestId, event_id: handled.eventId };
  switch (handled.kind) {
    case "verification":
      return { ...base, outcome: "verified" };
    case "stream_updated":
      // A paused or disabled stream means revocations stop arriving: an operator must know.
      return { ...base, outcome: "stream_updated", status: handled.status, alert: handled.status !== "enabled" };
    case "ignored":
      return { ...base, outcome: "ignored", event_type: handled.eventType, why: handled.why };
  }
}

/** One JSON line per delivery that applyRevocations does not log; never the SET or its subject. */
function audit(fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ type: "ema.webhook", channel: "ssf", ...fields }));
}

/** The SET within MAX_SET_BYTES (http/body.ts); a body that is not UTF-8 cannot be a compact JWS. */
async function readSetBody(request: Request): Promise<Result<string, SetRefusal>> {
  const body = await readBodyText(request, MAX_SET_BYTES);
  if (body.ok) return body;
  return refuse(body.error === "too_large" ? { reason: "body_too_large", maxBytes: MAX_SET_BYTES } : { reason: "jws_malformed", detail: "body_utf8" });
}
