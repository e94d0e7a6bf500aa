// The few KV operations the admin tooling needs, so the same publishing code runs against a Worker
// binding (tests, the Worker) and against wrangler (the CLI, local or remote).

export interface KvStore {
  get(key: string): Promise<string | null>;
  put(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  /** Key names with the prefix, in lexicographic order. */
  list(prefix: string): Promise<string[]>;
}

/** A KvStore over a Workers KV binding. */
export function kvStoreFrom(kv: KVNamespace): KvStore {
  return {
    get: (key) => kv.get(key, "text"),
    put: (key, value) => kv.put(key, value),
    delete: (key) => kv.delete(key),
    async list(prefix) {
      const names: string[] = [];
      let cursor: string | undefined;
      do {
        const page: KVNamespaceListResult<unknown, string> = await kv.list({ prefix, ...(cursor !== undefined && { cursor }) });
        names.push(...page.keys.map((k) => k.name));
        cursor = page.list_complete ? undefined : page.cursor;
      } while (cursor !== undefined);
      return names;
    },
  };
}
