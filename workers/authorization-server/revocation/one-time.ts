// Single use of a signed credential's `jti` (a client assertion, a Universal Logout JWT): spent in
// the SubjectShard of its owner (the client, the IdP) until the credential could no longer be
// accepted. Throws when the shard does not answer; callers fail closed.
import { sha256Base64Url } from "../../lib/digest";
import { CLOCK_SKEW_SECONDS } from "../assertion/claims";
import type { Env } from "../env";

/** True the first time `jti` is presented for `owner`; false for a replay. */
export async function spendJtiOnce(env: Env, namespace: "client" | "logout", owner: string, jti: string, exp: number, now: number): Promise<boolean> {
  const shard = env.SUBJECT_SHARD.get(env.SUBJECT_SHARD.idFromName(`${namespace}:${await sha256Base64Url(owner)}`));
  return shard.consumeOnce(await sha256Base64Url(`${owner}\n${jti}`), exp + CLOCK_SKEW_SECONDS, now);
}
