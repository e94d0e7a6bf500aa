import { describe, expect, it } from "vitest";
import { parsePolicyText } from "../../../workers/lib/policy-file";
import { diffPolicy, renderDiff } from "../../../workers/lib/policy-diff";
import { buildReport, renderReportMarkdown } from "../../../workers/lib/rollout-report";
import examplePolicyYaml from "../../../config/policy.example.yaml?raw";

const example = () => {
  const r = parsePolicyText(examplePolicyYaml);
  if (!r.ok) throw new Error("example invalid");
  return structuredClone(r.value);
};
const problems = (text: string) => {
  const r = parsePolicyText(text);
  return r.ok ? [] : r.error;
};

describe("parsePolicyText", () => {
  it("accepts JSON as well as YAML, and ignores the CLI's stamps", () => {
    expect(parsePolicyText(JSON.stringify({ ...example(), version: 9, pushed_at: "2026-01-01T00:00:00Z" })).ok).toBe(true);
  });
  it("names the path of each schema problem", () => {
    const text = examplePolicyYaml.replace("review_by: 2027-06-30", "review_by: next year").replace("    owner: sales-ops@example.com\n", "");
    const paths = problems(text).map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(["/rules/0/review_by", "/rules/1"]));
  });
  it("refuses a rule without an owner, approver, reason or review date", () => {
    for (const field of ["owner", "approved_by", "reason", "review_by"]) {
      const doc = example() as any;
      delete doc.rules[0][field];
      expect(problems(JSON.stringify(doc)).length).toBeGreaterThan(0);
    }
  });
  it("refuses conditions on a scope not marked sensitive", () => {
    const doc = example() as any;
    doc.resources[0].scopes[0].conditions = { amr_any_of: ["mfa"] };
    expect(problems(JSON.stringify(doc)).map((p) => p.path).join()).toContain("/resources/0/scopes/0");
  });
  it("reports a broken cross-reference with its path", () => {
    const doc = example() as any;
    doc.rules[1].issuers = ["okta-typo"];
    expect(problems(JSON.stringify(doc))).toEqual([{ path: "/rules/1/issuers/0", message: 'unknown issuer id "okta-typo"' }]);
  });
  it("refuses duplicate YAML keys and syntax errors with a line number", () => {
    expect(problems("issuers: []\nissuers: []\nresources: []\nrules: []\n")[0]?.path).toMatch(/^line \d+/);
    expect(problems("issuers: [\n")[0]?.path).toMatch(/^line \d+/);
  });
  it("refuses a document that is not a mapping", () => {
    expect(problems("- a\n- b\n")).toEqual([{ path: "/", message: "must be a mapping" }]);
  });
});

describe("diffPolicy", () => {
  it("lists added, removed and changed entries with the changed fields", () => {
    const before = example();
    const after = example();
    after.rules[1]!.scopes = ["notes.read", "notes.write"];
    after.rules.splice(0, 1);
    after.rules.push({ ...after.rules[0]!, id: "new-rule" });
    const changes = diffPolicy(before, after);
    expect(changes).toEqual([
      { kind: "changed", entry: "rules/sales-notes-read", fields: [{ field: "scopes", before: ["notes.read"], after: ["notes.read", "notes.write"] }] },
      { kind: "added", entry: "rules/new-rule" },
      { kind: "removed", entry: "rules/engineering-notes" },
    ]);
    expect(renderDiff(changes)).toContain('~ rules/sales-notes-read\n    scopes: ["notes.read"] → ["notes.read","notes.write"]');
  });
  it("says everything is new when nothing is deployed, and nothing when equal", () => {
    expect(diffPolicy(undefined, example()).every((c) => c.kind === "added")).toBe(true);
    expect(renderDiff(diffPolicy(example(), example()))).toBe("no changes");
  });

  it("shows a rate-limit change, so such a push is not 'nothing to push'", () => {
    const stricter = { ...example(), rate_limits: { token: { per_client: "strict" as const } } };
    expect(renderDiff(diffPolicy(example(), stricter))).toContain("~ rate_limits");
  });
});

describe("buildReport", () => {
  it("lists who gets what per resource, the sensitive scopes, and flags overdue reviews", () => {
    const report = buildReport({ ...example(), version: 4 }, "2027-04-01");
    expect(report.overdue_rules).toEqual(["sales-notes-read"]);
    const [notes] = report.resources;
    expect(notes!.grants.map((g) => [g.rule, g.who, g.scopes.join(" "), g.overdue])).toEqual([
      ["engineering-notes", "groups engineering of dev-idp", "notes.read notes.write", false],
      ["sales-notes-read", "groups sales of dev-idp", "notes.read", true],
    ]);
    expect(notes!.scopes.find((s) => s.name === "notes.write")).toMatchObject({ sensitive: true, conditions: { amr_any_of: ["mfa", "hwk"] } });
    const md = renderReportMarkdown(report);
    expect(md).toContain("**Overdue reviews:** sales-notes-read");
    expect(md).toContain("2027-03-31 **OVERDUE**");
    expect(md).toContain("Revocation:");
  });
  it("shows a resource nobody may reach as default deny", () => {
    const doc = { ...example(), rules: [] };
    expect(renderReportMarkdown(buildReport(doc, "2026-11-22"))).toContain("nobody (default deny)");
  });
});
