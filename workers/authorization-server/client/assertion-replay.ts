// Single use of private_key_jwt client assertions (RFC 7523 §3): the jti is spent in the client's
// own SubjectShard right after the assertion authenticated, at every endpoint that authenticates
// clients (token, introspection, revocation).
import { ok, refuse, type Result } from "../../lib/result";
import type { Env } from "../env";
import type { Refusal } from "../oauth/refusal";
import { spendJtiOnce } from "../revocation/one-time";

/** Spends a client assertion's jti; `client_assertion_replayed` when it was spent before. */
export async function spendClientAssertion(env: Env, clientId: string, key: { jti: string; exp: number }, now: number): Promise<Result<true, Refusal>> {
  try {
    const fresh = await spendJtiOnce(env, "client", clientId, key.jti, key.exp, now);
    return fresh ? ok(true) : refuse({ reason: "client_assertion_replayed" });
  } catch (error) {
    return stateUnavailable(error);
  }
}

/** The Durable Object did not answer (overloaded, reset, unreachable): fail closed; the client may retry. */
export function stateUnavailable(error: unknown): Result<never, Refusal> {
  return refuse({ reason: "state_unavailable", detail: error instanceof Error ? error.name : "unknown" });
}
