// The SubjectShard Durable Object: the strongly consistent state of the token path. One shard holds
// the replay markers, revocation records and denied tokens of the subjects that hash to it, so an
// exchange needs one call (design.md). Methods are thin wrappers over revocation/ledger.ts.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import {
  applyRevocationEntries,
  consumeOnce,
  createLedgerTables,
  denyToken,
  noteSubjectEmail,
  raiseRevokedBefore,
  redeem,
  tokenState,
  type RedeemInput,
  type RedeemOutcome,
  type RevocationEntry,
  type RevocationResult,
  type TokenState,
} from "./ledger";

/** An email → subject index entry to write to KV the first time a subject is seen with that email. */
export interface EmailIndexEntry {
  kvKey: string;
  /** A JSON SubjectRef. */
  value: string;
}

export class SubjectShard extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    createLedgerTables(ctx.storage.sql);
  }

  /**
   * Checks the subject's revocation and spends the assertion's jti, atomically. On the first
   * exchange of a subject with an email, the email → subject index (for Universal Logout) is
   * written to KV in the background: never on the token path's critical path, once per pair.
   */
  redeem(input: RedeemInput, emailIndex?: EmailIndexEntry): RedeemOutcome {
    const outcome = redeem(this.ctx.storage.sql, input);
    if (outcome.ok && emailIndex && noteSubjectEmail(this.ctx.storage.sql, `${input.subjectKey}\n${emailIndex.kvKey}`)) {
      this.ctx.waitUntil(this.env.CONFIG.put(emailIndex.kvKey, emailIndex.value).catch(() => {}));
    }
    return outcome;
  }

  /** Spends a one-time key (a client assertion's jti); false when already spent. */
  consumeOnce(key: string, forgetAfter: number, now: number): boolean {
    return consumeOnce(this.ctx.storage.sql, key, forgetAfter, now);
  }

  /** Sets the subject's revoked_before to at least `revokedBefore`; returns the stored value. */
  revokeSubject(subjectKey: string, revokedBefore: number): number {
    return raiseRevokedBefore(this.ctx.storage.sql, subjectKey, revokedBefore);
  }

  /** Applies a batch of revocations for subjects of this shard, atomically. */
  applyRevocations(entries: RevocationEntry[], now: number): RevocationResult[] {
    return applyRevocationEntries(this.ctx.storage.sql, entries, now);
  }

  denyToken(tokenKey: string, forgetAfter: number, now: number): void {
    denyToken(this.ctx.storage.sql, tokenKey, forgetAfter, now);
  }

  tokenState(input: { subjectKey: string; tokenKey: string; iat: number }): TokenState {
    return tokenState(this.ctx.storage.sql, input);
  }
}
