// Runs what the dev IdP pushed through ema-edge's own pure parsers (the receivers' logic without
// their storage), configured as config/policy.example.yaml configures the dev IdP, so "ema-edge
// accepts it" is checked against the real code rather than a copy of its rules.
import { jwtVerify, type JWTVerifyGetKey } from "jose";
import { parseDelivery, readEvents } from "../../../workers/authorization-server/webhooks/okta-events";
import { checkSetHeader, validateSetClaims } from "../../../workers/authorization-server/webhooks/set";
import { classifyEvent, targetOf } from "../../../workers/authorization-server/webhooks/ssf-events";
import { parseCompactJws } from "../../../workers/authorization-server/assertion/jws";

/** The dev IdP's okta_event_hook block in config/policy.example.yaml (the secret is checked by the test itself). */
const HOOK_CONFIG = { secret_sha256: ["qv6xlhiZF9Wqrp6J4pVKQkWmojj2PMHycIwLyX9c9Yk"], group_removal: "revoke", session_end: "ignore" } as const;

/** What ema-edge's Okta hook receiver makes of a delivery body: revocation signals and skips. */
export function readOktaDelivery(body: string, idpIssuer: string) {
  const parsed = parseDelivery(body, undefined);
  if (!parsed.ok) throw new Error(`ema-edge refuses the delivery: ${JSON.stringify(parsed.error)}`);
  return readEvents(parsed.value.events, { issuer: idpIssuer }, { ...HOOK_CONFIG, secret_sha256: [...HOOK_CONFIG.secret_sha256] });
}

/**
 * What ema-edge's SSF receiver makes of a SET: the signature against the IdP's JWKS (as ssf.ts
 * does, RS256 by default), the header, the claims, then the event's meaning and its target.
 */
export async function readSet(compact: string, keys: JWTVerifyGetKey, expected: { issuer: string; audience: string }) {
  const jws = parseCompactJws(compact);
  if (!jws.ok) throw new Error(`ema-edge refuses the SET's structure: ${JSON.stringify(jws.error)}`);
  const header = checkSetHeader(jws.value.header, ["RS256"]);
  if (!header.ok) throw new Error(`ema-edge refuses the SET's header: ${JSON.stringify(header.error)}`);
  await jwtVerify(compact, keys, { algorithms: ["RS256"] });
  const set = validateSetClaims(jws.value.payload, expected);
  if (!set.ok) throw new Error(`ema-edge refuses the SET's claims: ${JSON.stringify(set.error)}`);
  const action = classifyEvent(set.value.eventType, set.value.event);
  if (!action.ok) throw new Error(`ema-edge refuses the SET's event: ${JSON.stringify(action.error)}`);
  const target = action.value.kind === "revoke" ? targetOf(set.value.subject, { issuer: expected.issuer }) : undefined;
  if (target !== undefined && !target.ok) throw new Error(`ema-edge refuses the SET's subject: ${JSON.stringify(target.error)}`);
  return { set: set.value, action: action.value, target: target?.value };
}
