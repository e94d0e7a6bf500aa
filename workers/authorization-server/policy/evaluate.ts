// Group policy, as pure functions: which rules match a subject at a resource (default deny), the
// scopes they allow, and the step-up conditions of sensitive scopes. The handler intersects the
// result with the ID-JAG's and the request's scopes.
import type { McpResource, PolicyRule, ScopeConditions, TrustedIssuer } from "../../lib/kv-records";
import { ok, refuse, type Result } from "../../lib/result";

/** What policy may look at, all from the verified ID-JAG and the authenticated client. */
export interface PolicySubject {
  issuer: TrustedIssuer;
  clientId: string;
  groups: readonly string[];
  tenant?: string;
  email?: string;
  amr?: readonly string[];
  authTime?: number;
}

export interface PolicyDecision {
  allowed: ReadonlySet<string>;
  /** The rules that matched, for the audit event. */
  ruleIds: string[];
}

/** Whether one rule applies to the subject at the resource: every condition it states must hold. */
export function ruleMatches(rule: PolicyRule, subject: PolicySubject, resource: McpResource): boolean {
  if (!rule.resources.includes(resource.resource)) return false;
  if (rule.issuers !== undefined && !rule.issuers.includes(subject.issuer.id)) return false;
  if (rule.groups !== undefined && !rule.groups.some((g) => subject.groups.includes(g))) return false;
  if (rule.tenants !== undefined && (subject.tenant === undefined || !rule.tenants.includes(subject.tenant))) return false;
  if (rule.clients !== undefined && !rule.clients.includes(subject.clientId)) return false;
  if (rule.email_domains !== undefined) {
    const domain = subject.email?.toLowerCase().split("@")[1];
    if (domain === undefined || !rule.email_domains.includes(domain)) return false;
  }
  return true;
}

/** The union of what every matching rule grants, limited to scopes the resource defines. */
export function applyPolicy(
  rules: readonly PolicyRule[],
  subject: PolicySubject,
  resource: McpResource,
): Result<PolicyDecision, { reason: "no_rule_allows" }> {
  const defined = new Set(resource.scopes.map((s) => s.name));
  const allowed = new Set<string>();
  const ruleIds: string[] = [];
  for (const rule of rules) {
    if (!ruleMatches(rule, subject, resource)) continue;
    for (const s of rule.scopes === "*" ? defined : rule.scopes) if (defined.has(s)) allowed.add(s);
    ruleIds.push(rule.id);
  }
  return ruleIds.length > 0 ? ok({ allowed, ruleIds }) : refuse({ reason: "no_rule_allows" });
}

export interface DroppedScope {
  scope: string;
  condition: "amr_any_of" | "max_auth_age_seconds";
}

/**
 * Leaves out each sensitive scope whose step-up condition fails (authorization is not approval):
 * `amr` must name one of the listed methods; `auth_time` must be present and recent enough.
 */
export function applyScopeConditions(
  resource: McpResource,
  scopes: readonly string[],
  subject: PolicySubject,
  now: number,
): { granted: string[]; dropped: DroppedScope[] } {
  const granted: string[] = [];
  const dropped: DroppedScope[] = [];
  for (const scope of scopes) {
    const failed = failedCondition(resource.scopes.find((s) => s.name === scope)?.conditions, subject, now);
    if (failed === undefined) granted.push(scope);
    else dropped.push({ scope, condition: failed });
  }
  return { granted, dropped };
}

function failedCondition(conditions: ScopeConditions | undefined, subject: PolicySubject, now: number): DroppedScope["condition"] | undefined {
  if (conditions === undefined) return undefined;
  if (conditions.amr_any_of !== undefined && !conditions.amr_any_of.some((m) => subject.amr?.includes(m))) return "amr_any_of";
  if (conditions.max_auth_age_seconds !== undefined && (subject.authTime === undefined || now - subject.authTime > conditions.max_auth_age_seconds)) {
    return "max_auth_age_seconds";
  }
  return undefined;
}
