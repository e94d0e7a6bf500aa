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
  sql.exec(`CREATE TABLE IF NOT EXISTS seen_event (key TEXT PRIMARY KEY, forget_after INTEGER NOT NULL) WITHOUT ROWID`);
  sql.exec(`CREATE TABLE IF NOT EXISTS denied_token (key TEXT PRIMARY KEY, forget_after INTEGER NOT NULL) WITHOUT ROWID`);
  sql.exec(`CREATE TABLE IF NOT EXISTS subject_email (key TEXT PRIMARY KEY) WITHOUT ROWID`);
}

/** How long a processed event id is remembered, so a late redelivery is recognised as a duplicate. */
export const SEEN_EVENT_RETENTION_SECONDS = 7 * 24 * 3600;

export interface RevocationEntry {
  subjectKey: string;
  /** The event's time (already clamped to its receipt): tokens issued at or before it are refused. */
  revokedBefore: number;
  /** channel + source event id, for duplicate detection. */
  eventKey: string;
}

export interface RevocationResult {
  subjectKey: string;
  eventKey: string;
  /** The stored value after this entry: never lower than before. */
  revokedBefore: number;
  duplicate: boolean;
}

/** Applies a batch atomically (one synchronous block): monotonic raise, event ids remembered. */
export function applyRevocationEntries(sql: SqlStorage, entries: readonly RevocationEntry[], now: number): RevocationResult[] {
  sql.exec(`DELETE FROM seen_event WHERE forget_after < ?`, now);
  return entries.map((e) => {
    const fresh = sql.exec(`INSERT INTO seen_event (key, forget_after) VALUES (?, ?) ON CONFLICT (key) DO NOTHING RETURNING key`, e.eventKey, now + SEEN_EVENT_RETENTION_SECONDS).toArray().length === 1;
    // A redelivered event changes nothing, even if it now claims another time.
    const stored = fresh ? raiseRevokedBefore(sql, e.subjectKey, e.revokedBefore) : (revokedBefore(sql, e.subjectKey) ?? e.revokedBefore);
    return { subjectKey: e.subjectKey, eventKey: e.eventKey, revokedBefore: stored, duplicate: !fresh };
  });
}

/** Denies one access token (RFC 7009) until it would have expired anyway. */
export function denyToken(sql: SqlStorage, tokenKey: string, forgetAfter: number, now: number): void {
  sql.exec(`DELETE FROM denied_token WHERE forget_after < ?`, now);
  sql.exec(`INSERT INTO denied_token (key, forget_after) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, tokenKey, forgetAfter);
}

export type TokenState = { active: true } | { active: false; reason: "token_revoked" | "subject_revoked" };

/** Whether an access token is still good as far as revocation goes (its signature and exp are checked before). */
export function tokenState(sql: SqlStorage, input: { subjectKey: string; tokenKey: string; iat: number }): TokenState {
  const before = revokedBefore(sql, input.subjectKey);
  if (before !== undefined && input.iat <= before) return { active: false, reason: "subject_revoked" };
  const denied = sql.exec(`SELECT 1 FROM denied_token WHERE key = ?`, input.tokenKey).toArray().length > 0;
  return denied ? { active: false, reason: "token_revoked" } : { active: true };
}

/** Records that the subject was seen with this email; true the first time (the caller then indexes it). */
export function noteSubjectEmail(sql: SqlStorage, key: string): boolean {
  return sql.exec(`INSERT INTO subject_email (key) VALUES (?) ON CONFLICT (key) DO NOTHING RETURNING key`, key).toArray().length === 1;
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
