import { describe, expect, it } from "vitest";
import { applyPolicy, applyScopeConditions, type PolicySubject } from "../../../workers/authorization-server/policy/evaluate";
import type { McpResource, PolicyRule, TrustedIssuer } from "../../../workers/lib/kv-records";
import { parsePolicyText } from "../../../workers/lib/policy-file";
import examplePolicyYaml from "../../../config/policy.example.yaml?raw";

const NOW = 1_800_000_000;
const okta: TrustedIssuer = { id: "okta", issuer: "https://acme.okta.com" };
const entra: TrustedIssuer = { id: "entra", issuer: "https://login.example/tenant" };
const linear: McpResource = {
  resource: "https://linear.example/mcp",
  name: "Linear",
  scopes: [
    { name: "issues.read" },
    { name: "issues.write", sensitive: true, conditions: { amr_any_of: ["mfa"] } },
    { name: "admin", sensitive: true, conditions: { amr_any_of: ["hwk"], max_auth_age_seconds: 300 } },
  ],
};
const gov = { owner: "o", approved_by: "a", reason: "r", review_by: "2099-01-01" };
const rules: PolicyRule[] = [
  { id: "eng", groups: ["engineering"], resources: [linear.resource], scopes: ["issues.read", "issues.write"], ...gov },
  { id: "contractors", groups: ["contractors"], email_domains: ["partner.example"], resources: [linear.resource], scopes: ["issues.read"], ...gov },
  { id: "okta-admins", issuers: ["okta"], groups: ["linear-admins"], resources: [linear.resource], scopes: "*", ...gov },
  { id: "tenant-b-only", tenants: ["b"], groups: ["viewers"], resources: [linear.resource], scopes: ["issues.read"], ...gov },
  { id: "ci-bot", clients: ["ci-agent"], resources: [linear.resource], scopes: ["issues.read"], ...gov },
];
const subject = (over: Partial<PolicySubject> = {}): PolicySubject => ({ issuer: okta, clientId: "claude", groups: [], ...over });
const decide = (over: Partial<PolicySubject>) => {
  const r = applyPolicy(rules, subject(over), linear);
  return r.ok ? { rules: r.value.ruleIds, scopes: [...r.value.allowed].sort() } : r.error.reason;
};

describe("applyPolicy (default deny, every stated condition must hold)", () => {
  it.each([
    { name: "an engineer gets read and write", over: { groups: ["engineering"] }, expected: { rules: ["eng"], scopes: ["issues.read", "issues.write"] } },
    { name: "no group matches → refused", over: { groups: ["design"] }, expected: "no_rule_allows" },
    { name: "no groups at all → refused", over: {}, expected: "no_rule_allows" },
    { name: "a contractor at the partner domain reads", over: { groups: ["contractors"], email: "Pat@Partner.Example" }, expected: { rules: ["contractors"], scopes: ["issues.read"] } },
    { name: "a contractor from another domain is refused", over: { groups: ["contractors"], email: "pat@gmail.example" }, expected: "no_rule_allows" },
    { name: "a contractor without email is refused", over: { groups: ["contractors"] }, expected: "no_rule_allows" },
    { name: "admins via Okta get every scope", over: { groups: ["linear-admins"] }, expected: { rules: ["okta-admins"], scopes: ["admin", "issues.read", "issues.write"] } },
    { name: "the same group from another issuer gets nothing", over: { issuer: entra, groups: ["linear-admins"] }, expected: "no_rule_allows" },
    { name: "tenant pinning: tenant b viewers read", over: { groups: ["viewers"], tenant: "b" }, expected: { rules: ["tenant-b-only"], scopes: ["issues.read"] } },
    { name: "tenant pinning: tenant a viewers are refused", over: { groups: ["viewers"], tenant: "a" }, expected: "no_rule_allows" },
    { name: "tenant pinning: no tenant is refused", over: { groups: ["viewers"] }, expected: "no_rule_allows" },
    { name: "a client-scoped rule applies to that client only", over: { clientId: "ci-agent" }, expected: { rules: ["ci-bot"], scopes: ["issues.read"] } },
    { name: "several rules add up", over: { groups: ["engineering", "linear-admins"] }, expected: { rules: ["eng", "okta-admins"], scopes: ["admin", "issues.read", "issues.write"] } },
  ])("$name", ({ over, expected }) => {
    expect(decide(over)).toEqual(expected);
  });

  it("ignores rules for other resources", () => {
    const other: McpResource = { ...linear, resource: "https://figma.example/mcp" };
    expect(applyPolicy(rules, subject({ groups: ["engineering"] }), other)).toEqual({ ok: false, error: { reason: "no_rule_allows" } });
  });
});

describe("applyScopeConditions (step-up on sensitive scopes)", () => {
  const conditions = (scopes: string[], over: Partial<PolicySubject>) => applyScopeConditions(linear, scopes, subject(over), NOW);

  it("keeps a sensitive scope whose condition holds", () => {
    expect(conditions(["issues.read", "issues.write"], { amr: ["pwd", "mfa"] })).toEqual({ granted: ["issues.read", "issues.write"], dropped: [] });
  });
  it("leaves out a sensitive scope without MFA and names the condition", () => {
    expect(conditions(["issues.read", "issues.write"], { amr: ["pwd"] })).toEqual({ granted: ["issues.read"], dropped: [{ scope: "issues.write", condition: "amr_any_of" }] });
  });
  it("treats a missing amr as failing", () => {
    expect(conditions(["issues.write"], {}).dropped).toEqual([{ scope: "issues.write", condition: "amr_any_of" }]);
  });
  it("requires a recent enough auth_time: at the limit kept, one second older dropped, absent dropped", () => {
    expect(conditions(["admin"], { amr: ["hwk"], authTime: NOW - 300 }).granted).toEqual(["admin"]);
    expect(conditions(["admin"], { amr: ["hwk"], authTime: NOW - 301 }).dropped).toEqual([{ scope: "admin", condition: "max_auth_age_seconds" }]);
    expect(conditions(["admin"], { amr: ["hwk"] }).dropped).toEqual([{ scope: "admin", condition: "max_auth_age_seconds" }]);
  });
});

describe("the example policy", () => {
  const parsed = parsePolicyText(examplePolicyYaml);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
  const policy = parsed.value;
  const [devIdp] = policy.issuers;
  const [notes] = policy.resources;
  const who = (groups: string[], amr?: string[]) => {
    const s: PolicySubject = { issuer: devIdp!, clientId: "demo-client", groups, ...(amr && { amr }), authTime: NOW - 60 };
    const r = applyPolicy(policy.rules, s, notes!);
    return r.ok ? applyScopeConditions(notes!, [...r.value.allowed], s, NOW).granted : r.error.reason;
  };
  it("gives alice (engineering, MFA) read and write", () => expect(who(["engineering"], ["pwd", "mfa"])).toEqual(["notes.read", "notes.write"]));
  it("gives an engineer without MFA read only", () => expect(who(["engineering"], ["pwd"])).toEqual(["notes.read"]));
  it("gives bob (sales) read only", () => expect(who(["sales"], ["mfa"])).toEqual(["notes.read"]));
  it("refuses carol (no group)", () => expect(who([])).toBe("no_rule_allows"));
  it("reads review dates as strings, not YAML timestamps", () => expect(typeof policy.rules[0]!.review_by).toBe("string"));
});
