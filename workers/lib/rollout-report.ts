// The rollout sheet an auditor asks for, per MCP resource: who gets which scopes through which
// rule, the sensitive scopes and their step-up conditions, owners, approvers, review dates (overdue
// flagged) and how revocation reaches it. Pure; `ema-edge report` prints it as Markdown or JSON.
import { DEFAULT_ACCESS_TOKEN_TTL_SECONDS, type PolicyDoc, type ScopeConditions } from "./kv-records";

export interface ReportGrant {
  rule: string;
  who: string;
  scopes: string[];
  owner: string;
  approved_by: string;
  reason: string;
  review_by: string;
  overdue: boolean;
}

export interface ReportResource {
  resource: string;
  name: string;
  access_token_ttl_seconds: number;
  scopes: { name: string; description?: string; sensitive: boolean; conditions?: ScopeConditions }[];
  grants: ReportGrant[];
  revocation: string;
}

export interface RolloutReport {
  policy_version: number | null;
  generated_on: string;
  overdue_rules: string[];
  resources: ReportResource[];
}


/** `today` is YYYY-MM-DD; a rule is overdue when its review_by is before it. */
export function buildReport(doc: Omit<PolicyDoc, "version"> & { version?: number }, today: string): RolloutReport {
  const resources = doc.resources.map((r): ReportResource => {
    const defined = r.scopes.map((s) => s.name);
    const ttl = r.access_token_ttl_seconds ?? DEFAULT_ACCESS_TOKEN_TTL_SECONDS;
    const grants = doc.rules
      .filter((rule) => rule.resources.includes(r.resource))
      .map((rule): ReportGrant => ({
        rule: rule.id,
        who: describeWho(rule),
        scopes: rule.scopes === "*" ? defined : rule.scopes.filter((s) => defined.includes(s)),
        owner: rule.owner,
        approved_by: rule.approved_by,
        reason: rule.reason,
        review_by: rule.review_by,
        overdue: rule.review_by < today,
      }));
    return {
      resource: r.resource,
      name: r.name,
      access_token_ttl_seconds: ttl,
      scopes: r.scopes.map((s) => ({ name: s.name, ...(s.description && { description: s.description }), sensitive: s.sensitive === true, ...(s.conditions && { conditions: s.conditions }) })),
      grants,
      revocation:
        `A subject revoked at the IdP is refused at the next token exchange, everywhere at once (SubjectShard Durable Object). ` +
        `Access tokens already issued stay valid until they expire, at most ${ttl} s.`,
    };
  });
  return {
    policy_version: doc.version ?? null,
    generated_on: today,
    overdue_rules: doc.rules.filter((r) => r.review_by < today).map((r) => r.id),
    resources,
  };
}

function describeWho(rule: PolicyDoc["rules"][number]): string {
  const parts = [rule.groups ? `groups ${rule.groups.join(" or ")}` : "every subject"];
  if (rule.issuers) parts.push(`of ${rule.issuers.join(", ")}`);
  if (rule.tenants) parts.push(`in tenant ${rule.tenants.join(" or ")}`);
  if (rule.email_domains) parts.push(`with email at ${rule.email_domains.join(" or ")}`);
  if (rule.clients) parts.push(`through client ${rule.clients.join(" or ")}`);
  return parts.join(" ");
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function renderReportMarkdown(report: RolloutReport): string {
  const lines = [`# MCP access rollout — policy version ${report.policy_version ?? "(not deployed)"}, ${report.generated_on}`, ""];
  if (report.overdue_rules.length > 0) lines.push(`**Overdue reviews:** ${report.overdue_rules.join(", ")}`, "");
  for (const r of report.resources) {
    lines.push(`## ${r.name}`, "", `Resource \`${r.resource}\`, access tokens live ${r.access_token_ttl_seconds} s.`, "");
    lines.push("| Scope | Sensitive | Step-up conditions |", "|---|---|---|");
    for (const s of r.scopes) lines.push(`| \`${s.name}\` | ${s.sensitive ? "**yes**" : "no"} | ${s.conditions ? cell(describeConditions(s.conditions)) : s.sensitive ? "**none**" : "—"} |`);
    lines.push("", "| Rule | Who | Scopes | Owner | Approved by | Why | Review by |", "|---|---|---|---|---|---|---|");
    if (r.grants.length === 0) lines.push("| — | nobody (default deny) | | | | | |");
    for (const g of r.grants) {
      lines.push(`| \`${g.rule}\` | ${cell(g.who)} | ${g.scopes.join(" ")} | ${cell(g.owner)} | ${cell(g.approved_by)} | ${cell(g.reason)} | ${g.review_by}${g.overdue ? " **OVERDUE**" : ""} |`);
    }
    lines.push("", `Revocation: ${r.revocation}`, "");
  }
  return lines.join("\n");
}

function describeConditions(c: ScopeConditions): string {
  const parts: string[] = [];
  if (c.amr_any_of) parts.push(`amr has ${c.amr_any_of.join(" or ")}`);
  if (c.max_auth_age_seconds !== undefined) parts.push(`login within ${c.max_auth_age_seconds} s`);
  return parts.join("; ");
}
