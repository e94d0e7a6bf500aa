// Counting wrappers for the bench: KV operations and Durable Object RPC calls made through the
// bindings of one Worker (and of its Durable Objects, which run in the same isolate), reported and
// reset at `GET /__bench/counts`. Bench only: production code is never changed for counting.

export interface Counts {
  kv: Record<string, number>;
  durableObject: Record<string, number>;
  fetch: number;
}

let counts: Counts = fresh();

function fresh(): Counts {
  return { kv: {}, durableObject: {}, fetch: 0 };
}

/** The counts since the last call, then zero. */
export function takeCounts(): Counts {
  const taken = counts;
  counts = fresh();
  return taken;
}

const bump = (table: Record<string, number>, name: string) => {
  table[name] = (table[name] ?? 0) + 1;
};

/** A KV namespace whose every method call is counted by name (get, put, delete, list, getWithMetadata). */
export function countingKv(kv: KVNamespace): KVNamespace {
  return new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        bump(counts.kv, String(prop));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** A Durable Object namespace whose stubs count each RPC method call by name. */
export function countingNamespace<T extends DurableObjectNamespace<any>>(ns: T): T {
  return new Proxy(ns, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (prop !== "get" && prop !== "getByName") return value.bind(target);
      return (...args: unknown[]) => countingStub((value as (...a: unknown[]) => object).apply(target, args));
    },
  });
}

function countingStub(stub: object): object {
  // Not a Proxy: an RPC stub is itself a Proxy, and wrapping it again confuses structured cloning.
  // An object whose every property is a counting caller of the stub's method of that name.
  const target = stub as Record<string | symbol, (...a: unknown[]) => unknown>;
  return new Proxy({}, {
    get(_t, prop) {
      if (prop === "then") return undefined;
      return (...args: unknown[]) => {
        bump(counts.durableObject, String(prop));
        return target[prop]!(...args);
      };
    },
  });
}

/** Counts outbound fetches (an IdP JWKS refresh). */
export function countingFetch(inner: typeof fetch): typeof fetch {
  return ((...args: Parameters<typeof fetch>) => {
    counts.fetch++;
    return inner(...args);
  }) as typeof fetch;
}
