// What a push would change: entries added, removed or changed, by their ids, with the fields that
// changed. Pure; the CLI prints it before `policy push` and for `policy diff`.
import type { PolicySource } from "./policy-file";

export interface PolicyChange {
  kind: "added" | "removed" | "changed";
  /** e.g. `rules/engineering-notes`. */
  entry: string;
  /** For "changed": each field with its old and new value. */
  fields?: { field: string; before: unknown; after: unknown }[];
}

const SECTIONS = [
  { name: "issuers", key: (e: any) => e.id as string },
  { name: "resources", key: (e: any) => e.resource as string },
  { name: "rules", key: (e: any) => e.id as string },
] as const;

export function diffPolicy(before: PolicySource | undefined, after: PolicySource): PolicyChange[] {
  const changes: PolicyChange[] = [];
  for (const { name, key } of SECTIONS) {
    const old = new Map<string, Record<string, unknown>>((before?.[name] ?? []).map((e) => [key(e), e as unknown as Record<string, unknown>]));
    const now = new Map<string, Record<string, unknown>>(after[name].map((e) => [key(e), e as unknown as Record<string, unknown>]));
    for (const [id, entry] of now) {
      const prior = old.get(id);
      if (prior === undefined) changes.push({ kind: "added", entry: `${name}/${id}` });
      else {
        const fields = diffFields(prior, entry);
        if (fields.length > 0) changes.push({ kind: "changed", entry: `${name}/${id}`, fields });
      }
    }
    for (const id of old.keys()) if (!now.has(id)) changes.push({ kind: "removed", entry: `${name}/${id}` });
  }
  // Top-level settings, compared whole (absent and empty mean the same).
  for (const [field, empty] of [["audience_aliases", []], ["rate_limits", {}]] as const) {
    const values = { before: before?.[field] ?? empty, after: after[field] ?? empty };
    if (JSON.stringify(values.before) === JSON.stringify(values.after)) continue;
    changes.push(before === undefined ? { kind: "added", entry: field } : { kind: "changed", entry: field, fields: [{ field, ...values }] });
  }
  return changes;
}

function diffFields(before: Record<string, unknown>, after: Record<string, unknown>) {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return names
    .filter((f) => JSON.stringify(before[f]) !== JSON.stringify(after[f]))
    .map((field) => ({ field, before: before[field], after: after[field] }));
}

export function renderDiff(changes: readonly PolicyChange[]): string {
  if (changes.length === 0) return "no changes";
  const show = (v: unknown) => (v === undefined ? "(absent)" : JSON.stringify(v));
  return changes
    .map((c) => {
      const sign = { added: "+", removed: "-", changed: "~" }[c.kind];
      const head = `${sign} ${c.entry}`;
      return c.fields ? [head, ...c.fields.map((f) => `    ${f.field}: ${show(f.before)} → ${show(f.after)}`)].join("\n") : head;
    })
    .join("\n");
}
