import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_FORM_BYTES, parseForm, readForm } from "../../../workers/authorization-server/http/form";

const post = (body: BodyInit, contentType = "application/x-www-form-urlencoded", headers: Record<string, string> = {}) =>
  new Request("https://as.example/oauth2/token", { method: "POST", headers: { "content-type": contentType, ...headers }, body });
const reason = async (req: Request) => {
  const r = await readForm(req);
  return r.ok ? "ok" : r.error.reason;
};

describe("readForm", () => {
  it("accepts the form content type with a charset parameter", async () => {
    expect(await reason(post("a=1", "application/x-www-form-urlencoded; charset=UTF-8"))).toBe("ok");
  });
  it.each(["application/json", "text/plain", "multipart/form-data; boundary=x", ""])("refuses content type %j", async (ct) => {
    expect(await reason(post("a=1", ct))).toBe("unsupported_content_type");
  });
  it("refuses methods other than POST", async () => {
    expect(await reason(new Request("https://as.example/oauth2/token", { method: "PUT", body: "a=1" }))).toBe("method_not_allowed");
  });
  it("accepts a body of exactly the cap and refuses one byte more, even without Content-Length", async () => {
    const at = "a=" + "x".repeat(MAX_FORM_BYTES - 2);
    expect(await reason(post(at))).toBe("ok");
    const stream = new Blob([at + "x"]).stream();
    expect(await reason(post(stream))).toBe("body_too_large");
  });
  it("refuses a declared Content-Length over the cap without reading", async () => {
    expect(await reason(post("a=1", undefined, { "content-length": String(MAX_FORM_BYTES + 1) }))).toBe("body_too_large");
  });
});

describe("parseForm", () => {
  it("treats empty values as absent and decodes percent-escapes", () => {
    const r = parseForm("a=&b=x%20y&c=%2B");
    expect(r.ok && [...r.value]).toEqual([["b", "x y"], ["c", "+"]]);
  });
  it("refuses a parameter sent twice, even when one copy is empty", () => {
    const r = parseForm("assertion=&assertion=x");
    expect(r).toEqual({ ok: false, error: { reason: "duplicate_parameter", name: "assertion" } });
  });
  it("yields single-valued parameters or a known refusal for any input", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = parseForm(s);
        expect(r.ok || r.error.reason === "duplicate_parameter" || r.error.reason === "malformed_body").toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
