import { describe, expect, it } from "vitest";
import { bindResource, indexResources, normalizeResourceUri } from "../../../workers/authorization-server/assertion/resource";
import type { McpResource, TrustedIssuer } from "../../../workers/lib/kv-records";

const A = "https://mcp-a.example/mcp";
const B = "https://mcp-b.example/mcp";
const resources: McpResource[] = [A, B].map((resource) => ({ resource, name: resource, scopes: [{ name: "read" }] }));
const index = indexResources(resources);
const issuer: TrustedIssuer = { id: "i", issuer: "https://idp.example", default_resource: A };
const bind = (claim: string | string[] | undefined, requested?: string, iss: TrustedIssuer = issuer) => {
  const r = bindResource(claim, requested, iss, index);
  return r.ok ? r.value.resource : r.error.reason;
};

describe("normalizeResourceUri", () => {
  it("lower-cases scheme and host, drops the default port, keeps path case", () => {
    expect(normalizeResourceUri("HTTPS://MCP-A.Example:443/MCP")).toBe("https://mcp-a.example/MCP");
  });
  it.each(["", "/mcp", "mcp-a.example/mcp", `${A}#x`, "https://user:pw@mcp-a.example/mcp", "https://a b.example", "https://x\n.example"])("refuses %j", (v) => {
    expect(normalizeResourceUri(v)).toBeUndefined();
  });
});

describe("bindResource", () => {
  it("binds the single claimed resource", () => expect(bind(A)).toBe(A));
  it("uses the issuer's default resource when the claim is absent", () => expect(bind(undefined)).toBe(A));
  it("refuses an absent claim when the issuer has no default", () => expect(bind(undefined, undefined, { id: "i", issuer: "x" })).toBe("resource_missing"));
  it("refuses an absent claim when the default is not one of ours", () =>
    expect(bind(undefined, undefined, { id: "i", issuer: "x", default_resource: "https://gone.example" })).toBe("resource_missing"));
  it("refuses a resource that is not ours", () => expect(bind("https://evil.example/mcp")).toBe("resource_unknown"));
  it("refuses a repeated resource", () => expect(bind([A, A])).toBe("resource_invalid"));
  it("asks to choose among several", () => expect(bind([A, B])).toBe("resource_ambiguous"));
  it("lets the request pick one of several", () => expect(bind([A, B], B)).toBe(B));
  it("refuses a requested resource outside the grant", () => expect(bind(A, B)).toBe("target_not_in_grant"));
  it("refuses a malformed requested resource", () => expect(bind(A, "/mcp")).toBe("resource_parameter_invalid"));
  it("compares the requested resource after normalisation", () => expect(bind(A, "https://MCP-A.example:443/mcp")).toBe(A));
});
