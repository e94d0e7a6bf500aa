// Which scopes policy allows a subject at a resource. First version: rules match on issuer and
// resource; group, tenant and step-up conditions come with the group-policy work. Default deny.
import type { McpResource, PolicyRule, TrustedIssuer } from "../../lib/kv-records";
import { ok, refuse, type Result } from "../../lib/result";

export interface PolicyDecision {
  allowed: ReadonlySet<string>;
  /** The rules that contributed, for the audit event. */
  ruleIds: string[];
}

/** The union of what every matching rule grants, limited to scopes the resource defines. */
export function applyPolicy(
  rules: readonly PolicyRule[],
  issuer: TrustedIssuer,
  resource: McpResource,
): Result<PolicyDecision, { reason: "no_rule_allows" }> {
  const defined = new Set(resource.scopes.map((s) => s.name));
  const allowed = new Set<string>();
  const ruleIds: string[] = [];
  for (const rule of rules) {
    if (rule.issuers !== undefined && !rule.issuers.includes(issuer.id)) continue;
    if (!rule.resources.includes(resource.resource)) continue;
    const scopes = rule.scopes === "*" ? defined : rule.scopes.filter((s) => defined.has(s));
    for (const s of scopes) allowed.add(s);
    ruleIds.push(rule.id);
  }
  return ruleIds.length > 0 ? ok({ allowed, ruleIds }) : refuse({ reason: "no_rule_allows" });
}
