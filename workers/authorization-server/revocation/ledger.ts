// The SubjectShard's storage logic as plain functions over its SQLite handle, so the Durable
// Object class stays a thin RPC surface. All of it is synchronous: a Durable Object runs one
// synchronous block at a time, which is what makes check-then-mark atomic.

export type RedeemOutcome = { ok: true } | { ok: false; reason: "replayed" } | { ok: false; reason: "subject_revoked"; revokedBefore: number };

export interface RedeemInput {
  /** sha256(iss ‖ sub): the subject's key in this shard. */
  subjectKey: string;
  /** sha256(iss ‖ sub ‖ jti): the replay key. */
  jtiKey: string;
  /** When the replay marker may be forgotten: the assertion's exp plus clock skew. */
  forgetAfter: number;
  /** The assertion's iat: refused when at or before the subject's revoked_before. */
  iat: number;
  now: number;
}

export function createLedgerTables(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS used_once (key TEXT PRIMARY KEY, forget_after INTEGER NOT NULL) WITHOUT ROWID`);
  sql.exec(`CREATE INDEX IF NOT EXISTS used_once_forget ON used_once (forget_after)`);
  sql.exec(`CREATE TABLE IF NOT EXISTS subject (key TEXT PRIMARY KEY, revoked_before INTEGER NOT NULL) WITHOUT ROWID`);
}

export function revokedBefore(sql: SqlStorage, subjectKey: string): number | undefined {
  const row = sql.exec<{ revoked_before: number }>(`SELECT revoked_before FROM subject WHERE key = ?`, subjectKey).toArray()[0];
  return row?.revoked_before;
}

/** Marks `key` used; false when it already was (and is not yet forgettable). */
export function consumeOnce(sql: SqlStorage, key: string, forgetAfter: number, now: number): boolean {
  sql.exec(`DELETE FROM used_once WHERE forget_after < ?`, now);
  // RETURNING yields the row only when it was inserted; a conflict (already spent) yields nothing.
  const inserted = sql.exec(`INSERT INTO used_once (key, forget_after) VALUES (?, ?) ON CONFLICT (key) DO NOTHING RETURNING key`, key, forgetAfter);
  return inserted.toArray().length === 1;
}

/** The whole exchange-time decision: a revoked subject is refused before its jti is spent. */
export function redeem(sql: SqlStorage, input: RedeemInput): RedeemOutcome {
  const before = revokedBefore(sql, input.subjectKey);
  if (before !== undefined && input.iat <= before) return { ok: false, reason: "subject_revoked", revokedBefore: before };
  return consumeOnce(sql, input.jtiKey, input.forgetAfter, input.now) ? { ok: true } : { ok: false, reason: "replayed" };
}

/** Raises revoked_before monotonically: a later, earlier-dated or duplicate event never lowers it. */
export function raiseRevokedBefore(sql: SqlStorage, subjectKey: string, atLeast: number): number {
  sql.exec(
    `INSERT INTO subject (key, revoked_before) VALUES (?, ?)
     ON CONFLICT (key) DO UPDATE SET revoked_before = max(revoked_before, excluded.revoked_before)`,
    subjectKey,
    atLeast,
  );
  return revokedBefore(sql, subjectKey)!;
}
