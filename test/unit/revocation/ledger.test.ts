import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { applyRevocationEntries, consumeOnce, raiseRevokedBefore, redeem } from "../../../workers/authorization-server/revocation/ledger";
import type { SubjectShard } from "../../../workers/authorization-server/revocation/subject-shard";

const shard = (name: string) => env.SUBJECT_SHARD.get(env.SUBJECT_SHARD.idFromName(name));
const inShard = <T>(name: string, fn: (sql: SqlStorage) => T) => runInDurableObject(shard(name), (_: SubjectShard, state) => fn(state.storage.sql));

describe("SubjectShard ledger", () => {
  it("spends a key once, and forgets it only after forget_after", async () => {
    await inShard("once", (sql) => {
      expect(consumeOnce(sql, "k", 100, 50)).toBe(true);
      expect(consumeOnce(sql, "k", 100, 100)).toBe(false);
      expect(consumeOnce(sql, "k", 200, 101)).toBe(true);
    });
  });

  it("raises revoked_before monotonically: an older or duplicate event never lowers it", async () => {
    await inShard("monotonic", (sql) => {
      expect(raiseRevokedBefore(sql, "s", 500)).toBe(500);
      expect(raiseRevokedBefore(sql, "s", 400)).toBe(500);
      expect(raiseRevokedBefore(sql, "s", 500)).toBe(500);
      expect(raiseRevokedBefore(sql, "s", 600)).toBe(600);
    });
  });

  it("refuses a revoked subject before spending its jti", async () => {
    await inShard("redeem", (sql) => {
      raiseRevokedBefore(sql, "s", 1000);
      const input = { subjectKey: "s", jtiKey: "j", forgetAfter: 2000, now: 1001 };
      expect(redeem(sql, { ...input, iat: 1000 })).toEqual({ ok: false, reason: "subject_revoked", revokedBefore: 1000 });
      expect(redeem(sql, { ...input, iat: 1001 })).toEqual({ ok: true });
      expect(redeem(sql, { ...input, iat: 1001 })).toEqual({ ok: false, reason: "replayed" });
    });
  });

  it("answers the RPC surface from another request", async () => {
    const stub = shard("rpc");
    expect(await stub.revokeSubject("x", 10)).toBe(10);
    expect(await stub.redeem({ subjectKey: "x", jtiKey: "j", forgetAfter: 99, iat: 10, now: 11 })).toMatchObject({ reason: "subject_revoked" });
    expect(await stub.consumeOnce("c", 99, 1)).toBe(true);
    expect(await stub.consumeOnce("c", 99, 1)).toBe(false);
  });
});

describe("applyRevocationEntries", () => {
  it("ignores a redelivered event even when it claims a later time", async () => {
    await inShard("dup-later", (sql) => {
      expect(applyRevocationEntries(sql, [{ subjectKey: "s", revokedBefore: 100, eventKey: "e1" }], 200)[0]).toMatchObject({ revokedBefore: 100, duplicate: false });
      expect(applyRevocationEntries(sql, [{ subjectKey: "s", revokedBefore: 150, eventKey: "e1" }], 200)[0]).toMatchObject({ revokedBefore: 100, duplicate: true });
      expect(applyRevocationEntries(sql, [{ subjectKey: "s", revokedBefore: 150, eventKey: "e2" }], 200)[0]).toMatchObject({ revokedBefore: 150, duplicate: false });
    });
  });
});
