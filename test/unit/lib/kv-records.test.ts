import { describe, expect, it } from "vitest";
import { checkRecord, type RecordKind } from "../../../workers/lib/kv-records";
import { checkPolicySemantics } from "../../../workers/lib/policy-check";
import policyExample from "../../../kv-schemas/policy.v1.example.json";
import clientExample from "../../../kv-schemas/client.v1.example.json";
import jwksExample from "../../../kv-schemas/jwks.v1.example.json";
import examplePolicyYaml from "../../../config/policy.example.yaml?raw";
import { parsePolicyText } from "../../../workers/lib/policy-file";

const problems = (kind: RecordKind, value: unknown) => {
  const r = checkRecord(kind, value);
  return r.ok ? [] : r.error;
};

describe("KV record schemas", () => {
  it.each([
    ["policy", policyExample],
    ["policy", { ...(parsePolicyText(examplePolicyYaml) as { value: object }).value, version: 1 }],
    ["client", clientExample],
    ["jwks", jwksExample],
  ] as const)("accepts the %s example", (kind, example) => {
    expect(problems(kind, example)).toEqual([]);
  });

  it("names the path of what is wrong", () => {
    const bad = structuredClone(policyExample) as any;
    bad.issuers[0].jwks_uri = "not a uri";
    bad.rules[0].scopes = [];
    const paths = problems("policy", bad).map((p) => p.path);
    expect(paths).toContain("/issuers/0/jwks_uri");
    expect(paths.some((p) => p.startsWith("/rules/0/scopes"))).toBe(true);
  });

  it.each([
    { name: "a client record holding a plain secret", value: { ...clientExample, client_secrets: [{ hash: "demo-secret", created_at: "2026-11-22T00:00:00Z" }] } },
    { name: "a client record with an unknown member", value: { ...clientExample, client_secret: "demo-secret" } },
    { name: "a private_key_jwt client without keys", value: { ...clientExample, token_endpoint_auth_methods: ["private_key_jwt"], client_secrets: undefined } },
    { name: "a client JWKS holding a private key", value: { ...clientExample, token_endpoint_auth_methods: ["private_key_jwt"], jwks: { keys: [{ kty: "EC", d: "secret" }] } } },
    { name: "a jwks record with a private key", value: { ...jwksExample, jwks: { keys: [{ kty: "RSA", d: "x" }] } } },
  ])("refuses $name", ({ value }) => {
    const kind = "fetched_at" in value ? "jwks" : "client";
    expect(problems(kind, JSON.parse(JSON.stringify(value))).length).toBeGreaterThan(0);
  });
});

describe("policy cross-references", () => {
  it("accepts the examples", () => {
    expect(checkPolicySemantics(policyExample as any, "https://as.example")).toEqual([]);
  });
  it("refuses trusting our own issuer, unknown references and duplicate ids", () => {
    const doc = structuredClone(policyExample) as any;
    doc.issuers.push({ ...doc.issuers[0] });
    doc.rules.push({ id: "x", issuers: ["ghost"], resources: ["https://nowhere.example/mcp"], scopes: "*" });
    doc.resources[0].default_scopes = ["ghost.scope"];
    const found = checkPolicySemantics(doc, "https://acme.okta.com").map((p) => p.path);
    expect(found).toEqual(expect.arrayContaining(["/issuers/0/issuer", "/issuers/1/id", "/issuers/1/issuer", "/rules/1/issuers/0", "/rules/1/resources/0", "/resources/0/default_scopes/0"]));
  });
  it("allows one issuer per tenant but not a pinned and an unpinned entry together", () => {
    const doc = structuredClone(policyExample) as any;
    doc.issuers = [
      { id: "a", issuer: "https://idp.example", tenant: "a" },
      { id: "b", issuer: "https://idp.example", tenant: "b" },
    ];
    doc.rules = [];
    expect(checkPolicySemantics(doc)).toEqual([]);
    doc.issuers.push({ id: "c", issuer: "https://idp.example" });
    expect(checkPolicySemantics(doc).map((p) => p.path)).toEqual(["/issuers/2/issuer"]);
  });
});
