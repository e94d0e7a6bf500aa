import { afterEach, describe, expect, it, vi } from "vitest";
import { readCappedText, refuseWebhook, WEBHOOK_REASONS } from "../../../workers/authorization-server/webhooks/responses";

const reasonOf = (r: { ok: boolean; error?: { reason: string } }) => (r.ok ? "ok" : r.error!.reason);

/** A body that fails the test if anyone reads it. */
const unreadable = () =>
  new ReadableStream<Uint8Array>({
    pull() {
      throw new Error("the body was read");
    },
  });

describe("readCappedText", () => {
  it("refuses a declared Content-Length over the cap without reading the body", async () => {
    const request = new Request("https://as.example.test/x", { method: "POST", headers: { "content-length": "1025" }, body: unreadable() });
    expect(await readCappedText(request, 1024)).toEqual({ ok: false, error: { reason: "body_too_large", maxBytes: 1024 } });
  });

  it("reads a body of exactly the cap, and refuses one byte more", async () => {
    const post = (text: string) => new Request("https://as.example.test/x", { method: "POST", body: text });
    expect(await readCappedText(post("a".repeat(1024)), 1024)).toEqual({ ok: true, value: "a".repeat(1024) });
    expect(reasonOf(await readCappedText(post("a".repeat(1025)), 1024))).toBe("body_too_large");
  });

  it("refuses bytes that are not UTF-8", async () => {
    const request = new Request("https://as.example.test/x", { method: "POST", body: new Uint8Array([0x22, 0xc3, 0x28, 0x22]) });
    expect(reasonOf(await readCappedText(request, 1024))).toBe("body_not_utf8");
  });
});

describe("refuseWebhook", () => {
  const lines: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    lines.length = 0;
  });
  const capture = () => vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));

  it("names a public reason in the body, and writes one audit line with the detail", async () => {
    capture();
    const res = refuseWebhook("okta_event_hook", "req-1", { reason: "body_too_large", maxBytes: 10 });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: "body_too_large" });
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { type: "ema.webhook", channel: "okta_event_hook", request_id: "req-1", outcome: "refused", reason: "body_too_large", detail: { maxBytes: 10 } },
    ]);
  });

  it("keeps authentication failures generic on the wire", async () => {
    capture();
    for (const reason of ["secret_mismatch", "signature_invalid", "iss_mismatch", "jti_reused"] as const) {
      const res = refuseWebhook("universal_logout", "req-2", { reason });
      expect({ status: res.status, body: await res.json() }).toEqual({ status: 401, body: { error: "unauthorized" } });
    }
  });

  it("names the Bearer scheme on a Universal Logout 401 (RFC 6750 §3), not on the hook's", () => {
    capture();
    expect(refuseWebhook("universal_logout", "r", { reason: "bearer_missing" }).headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
    expect(refuseWebhook("okta_event_hook", "r", { reason: "secret_mismatch" }).headers.get("www-authenticate")).toBeNull();
  });

  it("lists the allowed methods on a 405", () => {
    capture();
    expect(refuseWebhook("okta_event_hook", "r", { reason: "method_not_allowed", method: "PUT" }).headers.get("allow")).toBe("GET, POST");
    expect(refuseWebhook("universal_logout", "r", { reason: "method_not_allowed", method: "GET" }).headers.get("allow")).toBe("POST");
  });

  it("answers 5xx only for our own failures, so Okta retries exactly those", () => {
    const fiveHundreds = Object.entries(WEBHOOK_REASONS).filter(([, w]) => w.status >= 500).map(([r]) => r);
    expect(fiveHundreds.sort()).toEqual(["config_unavailable", "jwks_unavailable", "store_unavailable"]);
  });
});
