// Single use of private_key_jwt client assertions (RFC 7523 §3): the jti is spent in the client's
// own SubjectShard right after the assertion authenticated, at every endpoint that authenticates
// clients (token, introspection, revocation).
import { sha256Base64Url } from "../../lib/digest";
import { ok, refuse, type Result } from "../../lib/result";
import { CLOCK_SKEW_SECONDS } from "../assertion/claims";
import type { Env } from "../env";
import type { Refusal } from "../oauth/refusal";
import { clientShardName } from "../revocation/shard-key";

/** Spends a client assertion's jti; `client_assertion_replayed` when it was spent before. */
export async function spendClientAssertion(env: Env, clientId: string, key: { jti: string; exp: number }, now: number): Promise<Result<true, Refusal>> {
  try {
    const shard = env.SUBJECT_SHARD.get(env.SUBJECT_SHARD.idFromName(await clientShardName(clientId)));
    const fresh = await shard.consumeOnce(await sha256Base64Url(`${clientId}\n${key.jti}`), key.exp + CLOCK_SKEW_SECONDS, now);
    return fresh ? ok(true) : refuse({ reason: "client_assertion_replayed" });
  } catch (error) {
    return stateUnavailable(error);
  }
}

/** The Durable Object did not answer (overloaded, reset, unreachable): fail closed; the client may retry. */
export function stateUnavailable(error: unknown): Result<never, Refusal> {
  return refuse({ reason: "state_unavailable", detail: error instanceof Error ? error.name : "unknown" });
}
