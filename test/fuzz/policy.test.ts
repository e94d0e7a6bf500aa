// Properties of the policy document and KV record parsers: policy text as admins write it (YAML or
// JSON: mangled text, hostile YAML features, mutated valid documents), the JSON Schema check of
// every KV record, and the cross-reference checks. Any input yields a value or a list of problems
// that name a path, never an exception.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkRecord, type RecordKind } from "../../workers/lib/kv-records";
import { checkPolicySemantics } from "../../workers/lib/policy-check";
import { parsePolicyText } from "../../workers/lib/policy-file";
import examplePolicyYaml from "../../config/policy.example.yaml?raw";
import { check, json, spliceAt, TIMEOUT_MS } from "./support";

/** A refusal is a non-empty list of problems, each a path and a message. */
function expectProblems(result: { ok: boolean; error?: unknown }): void {
  if (result.ok) return;
  const problems = result.error as { path: unknown; message: unknown }[];
  expect(Array.isArray(problems) && problems.length > 0).toBe(true);
  for (const p of problems) expect(typeof p.path === "string" && typeof p.message === "string").toBe(true);
}

const parsedExample = (() => {
  const r = parsePolicyText(examplePolicyYaml);
  if (!r.ok) throw new Error("config/policy.example.yaml does not parse");
  return r.value as unknown;
})();

/** `value` with the node at a path chosen by `steps` replaced by `replacement` (or deleted). */
function replaceAt(value: unknown, steps: number[], replacement: unknown, remove: boolean): unknown {
  if (steps.length === 0 || value === null || typeof value !== "object") return replacement;
  const copy: any = Array.isArray(value) ? [...value] : { ...value };
  const keys = Object.keys(copy);
  if (keys.length === 0) return copy;
  const key = keys[steps[0]! % keys.length]!;
  if (steps.length === 1 && remove) {
    if (Array.isArray(copy)) copy.splice(Number(key), 1);
    else delete copy[key];
  } else copy[key] = replaceAt(copy[key], steps.slice(1), replacement, remove);
  return copy;
}

/** The example document with up to four nodes anywhere in it replaced, deleted or duplicated. */
const mutatedDoc = fc
  .array(fc.tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), json, fc.boolean(), fc.boolean()), { minLength: 1, maxLength: 4 })
  .map((ops) => {
    let doc = parsedExample;
    for (const [steps, value, remove, duplicate] of ops) {
      if (duplicate) {
        // Repeat the first entry of a list (a second issuer, resource or rule with the same ids).
        const list = ["issuers", "resources", "rules"][steps[0]! % 3]!;
        const d = doc as Record<string, unknown[]>;
        if (Array.isArray(d[list]) && d[list].length > 0) doc = { ...d, [list]: [...d[list], d[list][0]] };
      } else doc = replaceAt(doc, steps, value, remove);
    }
    return doc;
  });

/** YAML an attacker or a careless admin might write: aliases, tags, merge keys, odd keys, nesting. */
const hostileYaml = fc.oneof(
  fc.constantFrom(
    "a: *x",
    "<<: *missing",
    "issuers: &a [*a]",
    "a: &a\n  b: *a",
    "a: !!binary zz\n",
    "a: !custom 1\n",
    "? [a, b]\n: 1\n",
    "a: !!set {x}\n",
    "__proto__: {issuers: []}\n",
    "%YAML 1.1\n---\na: 1\n",
    "a: 1\n---\nb: 2\n",
    "\ufeffissuers: []\n",
    "{issuers: [], issuers: []}",
    "",
    "~",
    "- 1",
  ),
  fc.integer({ min: 1, max: 8 }).map((levels) => {
    let text = "a: &a0 [x,x,x,x,x,x,x,x,x]\n";
    for (let i = 1; i <= levels; i++) text += `a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(",")}]\n`;
    return text;
  }),
  fc.integer({ min: 1, max: 2000 }).map((n) => "[".repeat(n) + "]".repeat(n)),
  fc.integer({ min: 1, max: 300 }).map((n) => Array.from({ length: n }, (_, i) => `${" ".repeat(i)}k${i}:`).join("\n")),
);

/** The example text with a line deleted, duplicated, re-indented, or junk spliced in. */
const mangledExample = (() => {
  const lines = examplePolicyYaml.split("\n");
  return fc.oneof(
    fc.nat().map((i) => lines.filter((_, j) => j !== i % lines.length).join("\n")),
    fc.nat().map((i) => lines.flatMap((l, j) => (j === i % lines.length ? [l, l] : [l])).join("\n")),
    fc.tuple(fc.nat(), fc.integer({ min: -3, max: 3 })).map(([i, d]) => lines.map((l, j) => (j === i % lines.length ? (d >= 0 ? " ".repeat(d) + l : l.slice(-d)) : l)).join("\n")),
    fc.tuple(fc.nat(), fc.string({ unit: "binary", maxLength: 6 })).map(([at, junk]) => spliceAt(examplePolicyYaml, at, junk)),
    fc.tuple(fc.nat(), fc.constantFrom("*x", "&a", "!!str", "<<: *a", ": :", "- ", "{", "\t", "'", '"', "|", ">", "#")).map(([at, junk]) => spliceAt(examplePolicyYaml, at, junk)),
  );
})();

describe("lib/policy-file.ts parsePolicyText", () => {
  it("refuses YAML with an unresolved alias with a problem, not an exception", () => {
    const r = parsePolicyText("issuers: *nowhere\n");
    expect(r.ok).toBe(false);
  });
  it("refuses a YAML alias bomb with a problem, not an exception", () => {
    let text = "a0: &a0 [x,x,x,x,x,x,x,x,x]\n";
    for (let i = 1; i <= 9; i++) text += `a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(",")}]\n`;
    const r = parsePolicyText(text);
    expect(r.ok).toBe(false);
  });
  it("parses any text into a policy or a list of problems with paths", async () => {
    const text = fc.oneof(
      { weight: 3, arbitrary: mutatedDoc.map((d) => JSON.stringify(d) ?? "") },
      { weight: 2, arbitrary: mangledExample },
      { weight: 2, arbitrary: hostileYaml },
      { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
    );
    await check("lib/policy-file parsePolicyText", fc.property(text, fc.constantFrom(undefined, "http://localhost:8788"), (t, own) => expectProblems(parsePolicyText(t, own))));
  }, TIMEOUT_MS);
});

describe("lib/kv-records.ts checkRecord and lib/policy-check.ts", () => {
  const client = {
    client_id: "c1", status: "active", token_endpoint_auth_methods: ["private_key_jwt"], grant_types: ["urn:ietf:params:oauth:grant-type:jwt-bearer"],
    jwks: { keys: [{ kty: "EC", crv: "P-256", x: "AAAA", y: "AAAA" }] },
  };
  const jwks = { issuer: "https://idp.example", jwks_uri: "https://idp.example/jwks", fetched_at: 1, fresh_until: 2, jwks: { keys: [] } };
  const mutatedFrom = (base: unknown) =>
    fc.array(fc.tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), json, fc.boolean()), { maxLength: 4 }).map((ops) => ops.reduce((d, [steps, v, rm]) => replaceAt(d, steps, v, rm), base));
  it("validates any value as any record kind: the typed record or problems with paths; a valid policy's cross-references never throw", async () => {
    const value = fc.oneof(
      { weight: 2, arbitrary: mutatedDoc.map((d) => ({ ...(d as object), version: 1 })) },
      { weight: 1, arbitrary: mutatedFrom(client) },
      { weight: 1, arbitrary: mutatedFrom(jwks) },
      { weight: 1, arbitrary: json },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 2000 }).map((n) => ({ version: 1, issuers: [], resources: [], rules: [], x: JSON.parse("[".repeat(n) + "]".repeat(n)) })) },
    );
    await check("lib/kv-records checkRecord+checkPolicySemantics", fc.property(value, fc.constantFrom<RecordKind>("policy", "client", "jwks"), (v, kind) => {
      const r = checkRecord(kind, v);
      expectProblems(r);
      if (r.ok && kind === "policy") {
        const problems = checkPolicySemantics(r.value as never, "http://localhost:8788");
        expectProblems(problems.length > 0 ? { ok: false, error: problems } : { ok: true });
      }
    }));
  }, TIMEOUT_MS);
});

