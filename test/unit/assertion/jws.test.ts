import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCompactJws } from "../../../workers/authorization-server/assertion/jws";
import { encodeBase64Url } from "../../../workers/lib/base64url";

const b64 = (s: string) => encodeBase64Url(new TextEncoder().encode(s));
const KNOWN = new Set(["jws_malformed", "jwe_unsupported", "duplicate_json_member"]);

describe("parseCompactJws", () => {
  it("decodes header and payload objects", () => {
    const r = parseCompactJws(`${b64('{"alg":"RS256"}')}.${b64('{"sub":"a"}')}.c2ln`);
    expect(r).toMatchObject({ ok: true, value: { header: { alg: "RS256" }, payload: { sub: "a" } } });
  });
  it.each([
    { name: "padding in base64url", token: `${b64('{"alg":"RS256"}')}=.${b64("{}")}.c2ln`, reason: "jws_malformed" },
    { name: "invalid UTF-8 in the payload", token: `${b64('{"alg":"RS256"}')}.${encodeBase64Url(new Uint8Array([0x7b, 0xff, 0x7d]))}.c2ln`, reason: "jws_malformed" },
    { name: "a JSON string header", token: `${b64('"x"')}.${b64("{}")}.c2ln`, reason: "jws_malformed" },
    { name: "a null payload", token: `${b64("{}")}.${b64("null")}.c2ln`, reason: "jws_malformed" },
    { name: "an empty header", token: `.${b64("{}")}.c2ln`, reason: "jws_malformed" },
    { name: "a bad signature encoding", token: `${b64("{}")}.${b64("{}")}.c2l*`, reason: "jws_malformed" },
    { name: "five segments", token: "a.b.c.d.e", reason: "jwe_unsupported" },
  ])("refuses $name", ({ token, reason }) => {
    const r = parseCompactJws(token);
    expect(r.ok ? "ok" : r.error.reason).toBe(reason);
  });

  it("yields a value or a known refusal for any input, never an exception", () => {
    const segment = fc.oneof(fc.string(), fc.json().map(b64), fc.base64String().map((s) => s.replace(/=+$/, "")));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(segment, { minLength: 1, maxLength: 6 }).map((p) => p.join("."))), (input) => {
        const r = parseCompactJws(input);
        expect(r.ok || KNOWN.has(r.error.reason)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
