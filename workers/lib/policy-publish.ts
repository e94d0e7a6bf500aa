// Publishing policy:v1: stamp a validated source with the next version, keep it in the history,
// then make it current. Rollback re-publishes an earlier version's content as a new version, so
// versions only grow and every isolate sees the change as new. Shared by the CLI and the tests.
import { KV_KEYS, checkRecord, type PolicyDoc } from "./kv-records";
import type { KvStore } from "./kv-store";
import type { PolicySource } from "./policy-file";
import { stripStamps } from "./policy-file";

/** How many earlier versions stay available for rollback. */
export const POLICY_HISTORY_KEPT = 20;

export interface PublishContext {
  /** ISO date-time of the push. */
  at: string;
  by: string;
}

/** The deployed document, or undefined when there is none (or it no longer parses). */
export async function readDeployedPolicy(kv: KvStore): Promise<PolicyDoc | undefined> {
  const text = await kv.get(KV_KEYS.policy);
  if (text === null) return undefined;
  try {
    const parsed = JSON.parse(text) as PolicyDoc;
    return typeof parsed.version === "number" ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export async function publishPolicy(kv: KvStore, source: PolicySource, ctx: PublishContext, extra: Partial<PolicyDoc> = {}): Promise<PolicyDoc> {
  const deployed = await readDeployedPolicy(kv);
  const latest = await latestHistoryVersion(kv);
  const doc: PolicyDoc = {
    ...(stripStamps(source as unknown as Record<string, unknown>) as unknown as PolicySource),
    version: Math.max(deployed?.version ?? 0, latest) + 1,
    pushed_at: ctx.at,
    pushed_by: ctx.by,
    ...extra,
  };
  // Every write path validates what it writes (design.md).
  const checked = checkRecord("policy", doc);
  if (!checked.ok) throw new Error(`refusing to write an invalid policy: ${checked.error.map((p) => `${p.path} ${p.message}`).join("; ")}`);
  const text = JSON.stringify(doc);
  // A deployed version written by other means still becomes a rollback target.
  if (deployed !== undefined && deployed.version > latest) await kv.put(KV_KEYS.policyHistory(deployed.version), JSON.stringify(deployed));
  await kv.put(KV_KEYS.policyHistory(doc.version), text);
  await kv.put(KV_KEYS.policy, text);
  await pruneHistory(kv);
  return doc;
}

/** Versions available for rollback, newest first. */
export async function listPolicyVersions(kv: KvStore): Promise<number[]> {
  const names = await kv.list(KV_KEYS.policyHistoryPrefix);
  return names.map((n) => Number(n.slice(KV_KEYS.policyHistoryPrefix.length))).filter(Number.isSafeInteger).sort((a, b) => b - a);
}

/**
 * Re-publishes version `to` (default: the newest one before the deployed version) as a new version.
 * Throws when there is nothing to roll back to.
 */
export async function rollbackPolicy(kv: KvStore, ctx: PublishContext, to?: number): Promise<PolicyDoc> {
  const deployed = await readDeployedPolicy(kv);
  if (deployed === undefined) throw new Error("no policy is deployed");
  const target = to ?? (await listPolicyVersions(kv)).find((v) => v < deployed.version);
  if (target === undefined) throw new Error(`no version before ${deployed.version} to roll back to`);
  const text = await kv.get(KV_KEYS.policyHistory(target));
  if (text === null) throw new Error(`version ${target} is not in the history`);
  const previous = JSON.parse(text) as PolicyDoc;
  return publishPolicy(kv, previous as unknown as PolicySource, ctx, { rolled_back_from: deployed.version });
}

async function latestHistoryVersion(kv: KvStore): Promise<number> {
  return (await listPolicyVersions(kv))[0] ?? 0;
}

async function pruneHistory(kv: KvStore): Promise<void> {
  const versions = await listPolicyVersions(kv);
  for (const old of versions.slice(POLICY_HISTORY_KEPT)) await kv.delete(KV_KEYS.policyHistory(old));
}
