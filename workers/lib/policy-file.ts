// Reads a policy file as admins write it (YAML, or JSON, which is YAML too) and checks it exactly
// as a push would: the YAML itself (duplicate keys refused), the policy:v1 schema, cross-references.
// Problems name the path in the document. The stamps (`version`, `pushed_at`…) belong to the CLI
// and are ignored when a file carries them.
import { parseDocument } from "yaml";
import { checkRecord, type PolicyDoc, type SchemaProblem } from "./kv-records";
import { checkPolicySemantics } from "./policy-check";
import { ok, refuse, type Result } from "./result";

/** A policy as written in git: the stored document without the CLI's stamps. */
export type PolicySource = Omit<PolicyDoc, "version" | "pushed_at" | "pushed_by" | "rolled_back_from">;

const STAMPS = ["version", "pushed_at", "pushed_by", "rolled_back_from", "$schema"] as const;

export function parsePolicyText(text: string, ownIssuer?: string): Result<PolicySource, SchemaProblem[]> {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return refuse(doc.errors.map((e) => ({ path: `line ${e.linePos?.[0]?.line ?? "?"}`, message: e.message.split("\n")[0]! })));
  }
  let value: unknown;
  try {
    // toJS throws (ReferenceError) on an alias to no anchor and on an alias bomb (maxAliasCount).
    value = doc.toJS();
  } catch (error) {
    return refuse([{ path: "/", message: error instanceof Error ? error.message.split("\n")[0]! : "YAML could not be read" }]);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return refuse([{ path: "/", message: "must be a mapping" }]);
  const source = stripStamps(value as Record<string, unknown>);
  const checked = checkRecord("policy", { ...source, version: 1 });
  if (!checked.ok) return refuse(checked.error);
  const problems = checkPolicySemantics(checked.value, ownIssuer);
  return problems.length > 0 ? refuse(problems) : ok(source as PolicySource);
}

/** The document without the CLI's stamps: what a diff compares and what git holds. */
export function stripStamps(doc: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...doc };
  for (const key of STAMPS) delete copy[key];
  return copy;
}
