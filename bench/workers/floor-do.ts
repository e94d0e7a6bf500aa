// The design's floor: the floor (workers/floor.ts: read the form, verify the ID-JAG, sign one
// access token) plus the two things ema-edge's design adds that no implementation of it can skip:
// one strongly consistent Durable Object round trip that spends the jti (SQLite, in one of 64
// objects per issuer, as SubjectShard shards), and one JSON audit line. No client auth, no
// policy, no revocation lookup, no hashing of identifiers: those are ema-edge's own cost.
import { DurableObject } from "cloudflare:workers";
import { floorExchange, type FloorEnv } from "./floor";

interface Env extends FloorEnv {
  JTI_SHARD: DurableObjectNamespace<JtiShard>;
}

/** Spends a jti once: INSERT into a primary-keyed table, as ema-edge's ledger does. */
export class JtiShard extends DurableObject {
  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env as never);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS jti (key TEXT PRIMARY KEY, forget_after INTEGER NOT NULL)");
  }

  spend(jti: string, forgetAfter: number): boolean {
    // RETURNING, read out: a cursor's rowsWritten is only known once it has been consumed.
    return this.ctx.storage.sql.exec("INSERT INTO jti (key, forget_after) VALUES (?, ?) ON CONFLICT (key) DO NOTHING RETURNING key", jti, forgetAfter).toArray().length === 1;
  }
}

/** 64 objects per issuer, like SUBJECT_SHARD_COUNT, with a cheap non-cryptographic spread. */
function shardName(iss: string, sub: string): string {
  let h = 0;
  for (let i = 0; i < sub.length; i++) h = (h * 31 + sub.charCodeAt(i)) | 0;
  return `${iss}\n${(h >>> 0) % 64}`;
}

export default {
  fetch: (request: Request, env: Env) =>
    floorExchange(request, env, async (claims, accessTokenJti, now) => {
      const shard = env.JTI_SHARD.get(env.JTI_SHARD.idFromName(shardName(claims.iss!, claims.sub!)));
      if (!(await shard.spend(`${claims.sub}\n${claims.jti}`, claims.exp! + 60))) return false;
      // About the size of ema-edge's granted audit line.
      console.log(
        JSON.stringify({ type: "ema.token", time: now, decision: "granted", client_id: claims.client_id, iss: claims.iss, sub: claims.sub, act: claims.act, jti: claims.jti, resource: claims.resource, scopes: String(claims.scope).split(" "), access_token_jti: accessTokenJti, access_token_exp: now + 300 }),
      );
      return true;
    }),
} satisfies ExportedHandler<Env>;
