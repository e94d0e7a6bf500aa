// The SubjectShard Durable Object: the strongly consistent state of the token path. One shard holds
// the replay markers and revocation record of the subjects that hash to it, so an exchange needs
// one call (design.md). Methods are thin wrappers over revocation/ledger.ts.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { consumeOnce, createLedgerTables, raiseRevokedBefore, redeem, type RedeemInput, type RedeemOutcome } from "./ledger";

export class SubjectShard extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    createLedgerTables(ctx.storage.sql);
  }

  /** Checks the subject's revocation and spends the assertion's jti, atomically. */
  redeem(input: RedeemInput): RedeemOutcome {
    return redeem(this.ctx.storage.sql, input);
  }

  /** Spends a one-time key (a client assertion's jti); false when already spent. */
  consumeOnce(key: string, forgetAfter: number, now: number): boolean {
    return consumeOnce(this.ctx.storage.sql, key, forgetAfter, now);
  }

  /** Sets the subject's revoked_before to at least `revokedBefore`; returns the stored value. */
  revokeSubject(subjectKey: string, revokedBefore: number): number {
    return raiseRevokedBefore(this.ctx.storage.sql, subjectKey, revokedBefore);
  }
}
