import { afterEach, describe, expect, it, vi } from "vitest";
import { decodeBase64Url, encodeBase64Url } from "../../../workers/lib/base64url";
import {
  SECRET_CHECKS_PER_REQUEST,
  VERIFIED_SECRET_CACHE_SECONDS,
  activeSecretHashes,
  checkClientSecret,
  forgetVerifiedSecretsForTests,
  generateClientSecret,
  hashClientSecret,
  verifyClientSecret,
  verifyClientSecretAmong,
} from "../../../workers/authorization-server/client/secret";

const STORED_FORMAT = /^sha256:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]{43}$/; // kv-schemas/client.v1.schema.json

afterEach(() => vi.restoreAllMocks());

describe("generateClientSecret", () => {
  it("makes 32 random bytes, base64url", () => {
    const a = generateClientSecret();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(decodeBase64Url(a)).toHaveLength(32);
    expect(generateClientSecret()).not.toBe(a);
  });
});

describe("hashClientSecret", () => {
  it("produces the stored format with a fresh salt each time", async () => {
    const a = await hashClientSecret("s3cret");
    const b = await hashClientSecret("s3cret");
    expect(a).toMatch(STORED_FORMAT);
    expect(b).toMatch(STORED_FORMAT);
    expect(a).not.toBe(b);
  });

  it("is SHA-256 of the salt bytes followed by the UTF-8 secret", async () => {
    const salt = Uint8Array.from({ length: 16 }, (_, i) => i);
    const secret = "pässwörd:+/";
    const input = new Uint8Array([...salt, ...new TextEncoder().encode(secret)]);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", input));
    expect(await hashClientSecret(secret, salt)).toBe(`sha256:${encodeBase64Url(salt)}:${encodeBase64Url(digest)}`);
  });

  it("throws on a salt of the wrong size (a caller bug, not input)", async () => {
    await expect(hashClientSecret("x", new Uint8Array(15))).rejects.toThrow(TypeError);
  });
});

describe("verifyClientSecret", () => {
  it("accepts the secret a hash was made from, including non-ASCII", async () => {
    for (const secret of [generateClientSecret(), "pässwörd", "a"]) {
      expect(await verifyClientSecret(secret, await hashClientSecret(secret))).toBe(true);
    }
  });

  it.each([
    { name: "another secret", presented: "wrong" },
    { name: "a one-character change", presented: "s3creT" },
    { name: "a prefix", presented: "s3cre" },
    { name: "an extension", presented: "s3cret " },
    { name: "the empty string", presented: "" },
  ])("refuses $name", async ({ presented }) => {
    expect(await verifyClientSecret(presented, await hashClientSecret("s3cret"))).toBe(false);
  });

  it.each([
    "",
    "s3cret",
    "sha512:AAAAAAAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "sha256:AAAAAAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "sha256:AAAAAAAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "sha256:AAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
  ])("treats the malformed stored value %j as a mismatch, without throwing", async (stored) => {
    expect(await verifyClientSecret("s3cret", stored)).toBe(false);
  });

  it.each([0, 31])("refuses a stored digest that differs only in byte %i", async (index) => {
    const [, salt, digest] = (await hashClientSecret("s3cret")).split(":") as [string, string, string];
    const bytes = decodeBase64Url(digest)!;
    bytes[index] = bytes[index]! ^ 1;
    expect(await verifyClientSecret("s3cret", `sha256:${salt}:${encodeBase64Url(bytes)}`)).toBe(false);
  });
});

describe("verifyClientSecretAmong", () => {
  it("accepts a secret that matches any of the hashes (rotation)", async () => {
    const hashes = [await hashClientSecret("old"), await hashClientSecret("new")];
    expect(await verifyClientSecretAmong("old", hashes)).toBe(true);
    expect(await verifyClientSecretAmong("new", hashes)).toBe(true);
    expect(await verifyClientSecretAmong("other", hashes)).toBe(false);
  });

  it("never matches with no hashes (an unknown client)", async () => {
    expect(await verifyClientSecretAmong("", [])).toBe(false);
    expect(await verifyClientSecretAmong("AAAA", [])).toBe(false);
  });

  it("does the same hashing work for no hashes, one, or the maximum", async () => {
    const spy = vi.spyOn(crypto.subtle, "digest");
    const counts: number[] = [];
    for (const n of [0, 1, SECRET_CHECKS_PER_REQUEST]) {
      const hashes = await Promise.all(Array.from({ length: n }, (_, i) => hashClientSecret(`s${i}`)));
      spy.mockClear();
      await verifyClientSecretAmong("guess", hashes);
      counts.push(spy.mock.calls.length);
    }
    expect(counts).toEqual([SECRET_CHECKS_PER_REQUEST, SECRET_CHECKS_PER_REQUEST, SECRET_CHECKS_PER_REQUEST]);
  });

  it("keeps checking after a match (no early exit)", async () => {
    const hashes = [await hashClientSecret("first"), await hashClientSecret("second")];
    const spy = vi.spyOn(crypto.subtle, "digest");
    await verifyClientSecretAmong("first", hashes);
    expect(spy).toHaveBeenCalledTimes(SECRET_CHECKS_PER_REQUEST);
  });
});

describe("checkClientSecret (successful checks remembered per isolate)", () => {
  const NOW = 1_800_000_000;
  const FULL = SECRET_CHECKS_PER_REQUEST + 1; // the padded checks plus the memo key's digest
  const digests = async (run: () => Promise<boolean>) => {
    const spy = vi.spyOn(crypto.subtle, "digest");
    spy.mockClear();
    const result = await run();
    const n = spy.mock.calls.length;
    spy.mockRestore();
    return { result, n };
  };
  afterEach(() => forgetVerifiedSecretsForTests());

  it("does the full padded work the first time, one digest while remembered", async () => {
    const hashes = [await hashClientSecret("right")];
    expect(await digests(() => checkClientSecret("c", "right", hashes, NOW))).toEqual({ result: true, n: FULL });
    expect(await digests(() => checkClientSecret("c", "right", hashes, NOW + VERIFIED_SECRET_CACHE_SECONDS - 1))).toEqual({ result: true, n: 1 });
  });

  it("never remembers a wrong secret: every attempt does the full padded work and fails", async () => {
    const hashes = [await hashClientSecret("right")];
    await checkClientSecret("c", "right", hashes, NOW);
    for (let i = 0; i < 3; i++) expect(await digests(() => checkClientSecret("c", "wrong", hashes, NOW))).toEqual({ result: false, n: FULL });
  });

  it("does the same work for an unknown client, a wrong secret and a first success", async () => {
    const hashes = [await hashClientSecret("right")];
    const unknown = await digests(() => checkClientSecret("nobody", "right", [], NOW));
    const wrong = await digests(() => checkClientSecret("c", "wrong", hashes, NOW));
    const first = await digests(() => checkClientSecret("c", "right", hashes, NOW));
    expect([unknown, wrong, first]).toEqual([{ result: false, n: FULL }, { result: false, n: FULL }, { result: true, n: FULL }]);
  });

  it("stops accepting a remembered secret the moment its hash leaves the record (rotation, removal, expiry)", async () => {
    const [old, replacement] = [await hashClientSecret("old"), await hashClientSecret("new")];
    expect(await checkClientSecret("c", "old", [old, replacement], NOW)).toBe(true);
    expect(await checkClientSecret("c", "old", [replacement], NOW + 1)).toBe(false);
  });

  it("does not lend one client's success to another client_id", async () => {
    const hashes = [await hashClientSecret("shared")];
    await checkClientSecret("a", "shared", hashes, NOW);
    expect(await digests(() => checkClientSecret("b", "shared", hashes, NOW))).toEqual({ result: true, n: FULL });
  });

  it(`rechecks in full at ${VERIFIED_SECRET_CACHE_SECONDS} s, and when the clock goes back`, async () => {
    const hashes = [await hashClientSecret("right")];
    await checkClientSecret("c", "right", hashes, NOW);
    expect((await digests(() => checkClientSecret("c", "right", hashes, NOW + VERIFIED_SECRET_CACHE_SECONDS))).n).toBe(FULL);
    expect((await digests(() => checkClientSecret("c", "right", hashes, NOW + VERIFIED_SECRET_CACHE_SECONDS - 1))).n).toBe(FULL);
  });
});

describe("activeSecretHashes", () => {
  const now = 1_800_000_000;
  const iso = (t: number) => new Date(t * 1000).toISOString();
  const entry = (hash: string, expiresAt?: number | string) => ({
    hash,
    created_at: iso(now - 86_400),
    ...(expiresAt === undefined ? {} : { expires_at: typeof expiresAt === "number" ? iso(expiresAt) : expiresAt }),
  });

  it("keeps secrets without expires_at and those expiring after now", () => {
    expect(activeSecretHashes([entry("a"), entry("b", now + 1)], now)).toEqual(["a", "b"]);
  });
  it("drops a secret that expired a second ago", () => {
    expect(activeSecretHashes([entry("a", now - 1)], now)).toEqual([]);
  });
  it("drops a secret at the instant it expires", () => {
    expect(activeSecretHashes([entry("a", now)], now)).toEqual([]);
  });
  it("drops a secret whose expires_at does not parse (fail closed)", () => {
    expect(activeSecretHashes([entry("a", "tomorrow")], now)).toEqual([]);
  });
  it("handles a record without client_secrets", () => {
    expect(activeSecretHashes(undefined, now)).toEqual([]);
  });
});
