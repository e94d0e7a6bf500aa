// Applies revocation signals from any channel (Okta Event Hook, SSF, Universal Logout, admin):
// clamp each event time to its receipt, raise each subject's revoked_before in its SubjectShard
// (one call per shard, in parallel), then mirror the result to KV and write one audit event per
// signal. Throws StoreUnavailableError when a shard did not commit, so the caller answers 5xx and
// the sender retries; a retry changes nothing that already committed (revoked_before only grows).
import { sha256Base64Url } from "../../lib/digest";
import { mirrorTtl, subjectMirrorKey, subjectMirrorUntil, tokenMirrorKey, type SubjectRevocationRecord } from "../../lib/revocation-mirror";
import { StoreUnavailableError } from "../../lib/store-error";
import type { Env } from "../env";
import type { RevocationResult } from "./ledger";
import { addressSubject, type SubjectId } from "./shard-key";

export type RevocationChannel = "okta_event_hook" | "ssf" | "universal_logout" | "admin";

export interface RevocationSignal {
  subject: SubjectId;
  /** When the IdP says it happened (epoch seconds); later than receipt is clamped to receipt. */
  eventTime: number;
  channel: RevocationChannel;
  /** The source's id for the event (Okta uuid, SET jti…), for duplicate detection and audit. */
  eventId: string;
  eventType: string;
}

export interface AppliedRevocation {
  signal: RevocationSignal;
  /** The subject's revoked_before after this batch. */
  effective: number;
  duplicate: boolean;
}

export async function applyRevocations(env: Env, signals: readonly RevocationSignal[], receivedAt: number, requestId: string): Promise<AppliedRevocation[]> {
  const addressed = await Promise.all(
    signals.map(async (signal, index) => ({
      index,
      signal,
      address: await addressSubject(signal.subject),
      eventKey: `${signal.channel}\n${await sha256Base64Url(signal.eventId)}`,
      revokedBefore: Math.min(Math.floor(signal.eventTime), receivedAt),
    })),
  );
  const byShard = new Map<string, typeof addressed>();
  for (const a of addressed) byShard.set(a.address.shardName, [...(byShard.get(a.address.shardName) ?? []), a]);

  const results: RevocationResult[] = [];
  await Promise.all(
    [...byShard].map(async ([shardName, items]) => {
      let stored: RevocationResult[];
      try {
        const shard = env.SUBJECT_SHARD.get(env.SUBJECT_SHARD.idFromName(shardName));
        stored = await shard.applyRevocations(items.map((i) => ({ subjectKey: i.address.subjectKey, revokedBefore: i.revokedBefore, eventKey: i.eventKey })), receivedAt);
      } catch {
        throw new StoreUnavailableError("subject_shard");
      }
      items.forEach((item, n) => (results[item.index] = stored[n]!));
    }),
  );

  const applied = addressed.map((a) => ({
    signal: a.signal,
    effective: results[a.index]!.revokedBefore,
    duplicate: results[a.index]!.duplicate,
    subjectKey: a.address.subjectKey,
  }));
  const mirrored = await mirrorSubjects(env, applied, receivedAt);
  for (const a of applied) {
    console.log(
      JSON.stringify({
        type: "ema.revocation",
        request_id: requestId,
        channel: a.signal.channel,
        event_id: a.signal.eventId,
        event_type: a.signal.eventType,
        iss: a.signal.subject.iss,
        ...(a.signal.subject.tenant !== undefined && { tenant: a.signal.subject.tenant }),
        sub: a.signal.subject.sub,
        received_at: receivedAt,
        event_time: a.signal.eventTime,
        effective: a.effective,
        duplicate: a.duplicate,
        mirrored: mirrored.has(a.subjectKey),
      }),
    );
  }
  return applied.map(({ signal, effective, duplicate }) => ({ signal, effective, duplicate }));
}

/** One KV write per subject (KV allows one write per key per second), after the shard committed. */
async function mirrorSubjects(
  env: Env,
  applied: readonly { signal: RevocationSignal; effective: number; subjectKey: string }[],
  now: number,
): Promise<Set<string>> {
  const latest = new Map<string, (typeof applied)[number]>();
  for (const a of applied) if ((latest.get(a.subjectKey)?.effective ?? -1) < a.effective) latest.set(a.subjectKey, a);
  const mirrored = new Set<string>();
  await Promise.all(
    [...latest.values()].map(async (a) => {
      const record: SubjectRevocationRecord = {
        ...a.signal.subject,
        revoked_before: a.effective,
        channel: a.signal.channel,
        event_type: a.signal.eventType,
        updated_at: now,
      };
      try {
        await env.CONFIG.put(await subjectMirrorKey(a.signal.subject), JSON.stringify(record), { expirationTtl: mirrorTtl(subjectMirrorUntil(a.effective), now) });
        mirrored.add(a.subjectKey);
      } catch {
        // The shard is authoritative and already committed; a missing mirror entry only delays
        // offline verifiers until the token expires. The audit event records it.
      }
    }),
  );
  return mirrored;
}

/** Mirrors a single revoked access token (RFC 7009) until it would have expired anyway. */
export async function mirrorDeniedToken(env: Env, jti: string, exp: number, now: number): Promise<void> {
  await env.CONFIG.put(await tokenMirrorKey(jti), "1", { expirationTtl: mirrorTtl(exp + 60, now) });
}
