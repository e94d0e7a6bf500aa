// Cross-reference checks the JSON Schema cannot express: ids are unique, rules and defaults point
// at things that exist, and we never trust ourselves as an IdP (ID-JAG §9.3). Shared by the Worker
// (on every policy load) and the admin CLI (before a push).
import type { PolicyDoc, SchemaProblem } from "./kv-records";

export function checkPolicySemantics(doc: PolicyDoc, ownIssuer?: string): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const issuerIds = new Set<string>();
  const tenantsByIssuer = new Map<string, (string | undefined)[]>();
  const resources = new Set(doc.resources.map((r) => r.resource));

  doc.issuers.forEach((issuer, i) => {
    if (issuerIds.has(issuer.id)) problems.push({ path: `/issuers/${i}/id`, message: `duplicate issuer id "${issuer.id}"` });
    // The same issuer may appear once per tenant (a multi-tenant IdP), never twice for one tenant,
    // and never both pinned and unpinned: the unpinned entry would accept every tenant.
    const tenants = tenantsByIssuer.get(issuer.issuer) ?? [];
    if (tenants.length > 0 && (tenants.includes(issuer.tenant) || tenants.includes(undefined) || issuer.tenant === undefined)) {
      problems.push({ path: `/issuers/${i}/issuer`, message: "issuer listed twice without distinct tenants" });
    }
    tenantsByIssuer.set(issuer.issuer, [...tenants, issuer.tenant]);
    if (ownIssuer !== undefined && issuer.issuer === ownIssuer) {
      problems.push({ path: `/issuers/${i}/issuer`, message: "an authorization server must not trust its own issuer" });
    }
    if (issuer.default_resource !== undefined && !resources.has(issuer.default_resource)) {
      problems.push({ path: `/issuers/${i}/default_resource`, message: "not one of the resources" });
    }
    issuerIds.add(issuer.id);
  });

  const seenResources = new Set<string>();
  doc.resources.forEach((resource, i) => {
    if (seenResources.has(resource.resource)) problems.push({ path: `/resources/${i}/resource`, message: "resource listed twice" });
    seenResources.add(resource.resource);
    const names = new Set(resource.scopes.map((s) => s.name));
    resource.default_scopes?.forEach((s, j) => {
      if (!names.has(s)) problems.push({ path: `/resources/${i}/default_scopes/${j}`, message: `scope "${s}" is not defined` });
    });
  });

  const ruleIds = new Set<string>();
  doc.rules.forEach((rule, i) => {
    if (ruleIds.has(rule.id)) problems.push({ path: `/rules/${i}/id`, message: `duplicate rule id "${rule.id}"` });
    ruleIds.add(rule.id);
    rule.issuers?.forEach((id, j) => {
      if (!issuerIds.has(id)) problems.push({ path: `/rules/${i}/issuers/${j}`, message: `unknown issuer id "${id}"` });
    });
    rule.resources.forEach((r, j) => {
      if (!resources.has(r)) problems.push({ path: `/rules/${i}/resources/${j}`, message: "not one of the resources" });
    });
  });
  return problems;
}
