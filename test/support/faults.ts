// Fault injection for the authorization server inside workerd: an env whose KV namespace or
// SubjectShard namespace wraps the real binding and fails on demand, and a direct call of the
// Worker's default export with that env. Faults are switched per test through a mutable `Faults`
// object, so "down, then recovered" is one test against the same real storage.
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import worker from "../../workers/authorization-server/index";

/** How a Durable Object outage surfaces to the caller of a stub's RPC method. */
export type ShardFailure =
  /** The object's input queue is full: an Error with `overloaded: true` (never retryable). */
  | "overloaded"
  /** The object was reset or moved (code update, eviction): an Error with `retryable: true`. */
  | "reset"
  /** A plain network Error, as when the object's host cannot be reached. */
  | "network"
  /** The call reaches the object and commits, then the reply is lost (a network Error). */
  | "reply_lost";

export interface Faults {
  /** When set, RPCs on SubjectShard stubs fail this way (all of them, or only `shardMethods`). */
  shard?: ShardFailure;
  /** Limits `shard` to these RPC methods: one object down while another answers. */
  shardMethods?: string[];
  /** Which KV operations fail, optionally only for keys with a given prefix. */
  kv?: { get?: boolean; list?: boolean; put?: boolean; delete?: boolean; prefix?: string };
  /** RPC calls attempted on the wrapped SubjectShard, by method name (including failed ones). */
  shardCalls: string[];
}

export const noFaults = (): Faults => ({ shardCalls: [] });

function shardError(kind: Exclude<ShardFailure, "reply_lost">): Error {
  switch (kind) {
    case "overloaded":
      return Object.assign(new Error("Durable Object is overloaded. Too many requests queued."), { overloaded: true, retryable: false });
    case "reset":
      return Object.assign(new Error("Durable Object reset because its code was updated."), { retryable: true });
    case "network":
      return new Error("Network connection lost.");
  }
}

/** The real SubjectShard namespace, except that its stubs' RPC methods fail while `faults.shard` is set. */
export function faultyShardNamespace(faults: Faults): typeof env.SUBJECT_SHARD {
  const real = env.SUBJECT_SHARD;
  const wrapStub = (stub: ReturnType<typeof real.get>) =>
    new Proxy({} as Record<string, unknown>, {
      get(_, name) {
        if (name === "then" || typeof name !== "string") return undefined; // a stub is not a thenable
        return async (...args: unknown[]) => {
          faults.shardCalls.push(name);
          const fault = faults.shardMethods === undefined || faults.shardMethods.includes(name) ? faults.shard : undefined;
          if (fault === "reply_lost") {
            await (stub as any)[name](...args);
            throw shardError("network");
          }
          if (fault !== undefined) throw shardError(fault);
          return (stub as any)[name](...args);
        };
      },
    });
  return {
    idFromName: (name: string) => real.idFromName(name),
    idFromString: (id: string) => real.idFromString(id),
    newUniqueId: () => real.newUniqueId(),
    get: (id: DurableObjectId) => wrapStub(real.get(id)),
  } as unknown as typeof env.SUBJECT_SHARD;
}

/** The real KV namespace, except that the operations named in `faults.kv` reject, as KV does in an outage. */
export function faultyKv(faults: Faults): KVNamespace {
  const real = env.CONFIG;
  const fails = (op: "get" | "list" | "put" | "delete", key: string | undefined) => {
    const kv = faults.kv;
    return kv !== undefined && kv[op] === true && (kv.prefix === undefined || (key ?? "").startsWith(kv.prefix));
  };
  const failure = (op: string) => Promise.reject(new Error(`KV ${op.toUpperCase()} failed: 503 Service Unavailable`));
  return {
    get: (key: string, ...rest: unknown[]) => (fails("get", key) ? failure("get") : (real.get as any)(key, ...rest)),
    getWithMetadata: (key: string, ...rest: unknown[]) => (fails("get", key) ? failure("get") : (real.getWithMetadata as any)(key, ...rest)),
    list: (options?: KVNamespaceListOptions) => (fails("list", options?.prefix ?? undefined) ? failure("list") : real.list(options)),
    put: (key: string, ...rest: unknown[]) => (fails("put", key) ? failure("put") : (real.put as any)(key, ...rest)),
    delete: (key: string) => (fails("delete", key) ? failure("delete") : real.delete(key)),
  } as unknown as KVNamespace;
}

/** The test env with both bindings wrapped; switch faults on and off through the returned `faults`. */
export function faultyEnv(faults: Faults = noFaults()): { env: typeof env; faults: Faults } {
  return { env: { ...env, CONFIG: faultyKv(faults), SUBJECT_SHARD: faultyShardNamespace(faults) }, faults };
}

/** Calls the Worker's default export with `testEnv`, and waits for its background work. */
export async function callWorker(request: Request, testEnv: typeof env): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(request as Parameters<typeof worker.fetch>[0], testEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** Runs `work` with console.error silenced (the Worker logs store outages there), restoring it after. */
export async function quietly<T>(work: () => Promise<T>): Promise<T> {
  const original = console.error;
  console.error = () => {};
  try {
    return await work();
  } finally {
    console.error = original;
  }
}
