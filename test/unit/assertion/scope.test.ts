import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { intersectScopes, parseScope } from "../../../workers/authorization-server/assertion/scope";
import type { McpResource } from "../../../workers/lib/kv-records";

const resource: McpResource = { resource: "https://m/mcp", name: "m", scopes: [{ name: "read" }, { name: "write" }, { name: "admin" }], default_scopes: ["read"] };
const grant = (allowed: string[], assertion?: string[], requested?: string[]) => {
  const granted = intersectScopes(resource, { allowed: new Set(allowed), assertion, requested });
  return granted.length > 0 ? granted.join(" ") : "nothing";
};

describe("parseScope", () => {
  it("splits on spaces and drops repeats", () => expect(parseScope("read  write read")).toEqual(["read", "write"]));
  it.each(['a"b', "a\\b", "a\tb", "a\u0000", "é"])("refuses %j", (s) => expect(parseScope(s)).toBeUndefined());
  it("refuses more than 64 tokens", () => expect(parseScope(Array.from({ length: 65 }, (_, i) => `s${i}`).join(" "))).toBeUndefined());
  it("never throws and only returns valid tokens", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = parseScope(s);
        expect(r === undefined || r.every((t) => /^[\x21\x23-\x5B\x5D-\x7E]+$/.test(t))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe("intersectScopes", () => {
  it("grants policy ∩ assertion", () => expect(grant(["read", "write"], ["write", "admin"])).toBe("write"));
  it("narrows by the request", () => expect(grant(["read", "write"], ["read", "write"], ["read"])).toBe("read"));
  it("uses default scopes when the assertion has none", () => expect(grant(["read", "write"])).toBe("read"));
  it("keeps the resource's order", () => expect(grant(["write", "read"], ["write", "read"])).toBe("read write"));
  it("drops names the resource does not define", () => expect(grant(["read", "ghost"], ["read", "ghost"])).toBe("read"));
  it("leaves nothing when the sets do not meet", () => expect(grant(["read"], ["write"])).toBe("nothing"));
  it("never grants outside any of the three sets", () => {
    const names = fc.subarray(["read", "write", "admin", "x"]);
    fc.assert(
      fc.property(names, fc.option(names, { nil: undefined }), fc.option(names, { nil: undefined }), (allowed, assertion, requested) => {
        for (const s of intersectScopes(resource, { allowed: new Set(allowed), assertion, requested })) {
          expect(allowed).toContain(s);
          expect(assertion ?? resource.default_scopes).toContain(s);
          if (requested) expect(requested).toContain(s);
        }
      }),
    );
  });
});
