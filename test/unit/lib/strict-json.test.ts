import { describe, expect, it } from "vitest";
import { parseStrictJson } from "../../../workers/lib/strict-json";

describe("parseStrictJson", () => {
  it("parses ordinary JSON objects", () => {
    expect(parseStrictJson('{"a":1,"b":{"a":2},"c":["a","a"]}')).toEqual({ ok: true, value: { a: 1, b: { a: 2 }, c: ["a", "a"] } });
  });
  it.each([
    ['{"a":1,"a":2}'],
    ['{"a":1,"\\u0061":2}'],
    ['{"x":{"b":1,"b":1}}'],
    ['[{"k":"v","k":"w"}]'],
  ])("refuses a repeated member name in %s", (text) => {
    expect(parseStrictJson(text)).toEqual({ ok: false, error: "duplicate_member" });
  });
  it("refuses text that is not JSON", () => {
    expect(parseStrictJson("{a:1}")).toEqual({ ok: false, error: "not_json" });
  });
  it("does not mistake string values containing quotes or braces for members", () => {
    expect(parseStrictJson('{"a":"\\"a\\":1,{","b":"}"}').ok).toBe(true);
  });
});
