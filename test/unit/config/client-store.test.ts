import { beforeEach, describe, expect, it } from "vitest";
import { CLIENT_CACHE_SECONDS, MAX_CACHED_CLIENTS, forgetClientsForTests, loadClient } from "../../../workers/authorization-server/config/client-store";
import type { ClientRecord } from "../../../workers/lib/kv-records";
import { StoreUnavailableError } from "../../../workers/lib/store-error";

const record = (clientId: string, status: ClientRecord["status"] = "active"): ClientRecord => ({
  client_id: clientId,
  status,
  token_endpoint_auth_methods: ["client_secret_basic"],
  client_secrets: [{ hash: `sha256:${"A".repeat(22)}:${"B".repeat(43)}`, created_at: "2026-11-01T00:00:00Z" }],
  grant_types: ["urn:ietf:params:oauth:grant-type:jwt-bearer"],
});

/** A KV namespace over a Map that counts reads. */
function fakeKv(initial: Record<string, unknown> = {}) {
  const data = new Map(Object.entries(initial).map(([k, v]) => [k, JSON.stringify(v)]));
  const kv = {
    reads: 0,
    failing: false,
    data,
    async get(key: string) {
      kv.reads++;
      if (kv.failing) throw new Error("KV down");
      const text = data.get(key);
      return text === undefined ? null : JSON.parse(text);
    },
  };
  return kv;
}
const asKv = (kv: ReturnType<typeof fakeKv>) => kv as unknown as KVNamespace;

const T0 = 1_800_000_000;
beforeEach(() => forgetClientsForTests());

describe("client records are cached per isolate for a bounded time", () => {
  it("answers a repeat lookup within CLIENT_CACHE_SECONDS from memory, without a KV read", async () => {
    const kv = fakeKv({ "client:v1:c1": record("c1") });
    expect(await loadClient(asKv(kv), "c1", T0)).toMatchObject({ client_id: "c1" });
    expect(await loadClient(asKv(kv), "c1", T0 + CLIENT_CACHE_SECONDS - 1)).toMatchObject({ client_id: "c1" });
    expect(kv.reads).toBe(1);
  });

  it("re-reads KV at CLIENT_CACHE_SECONDS, so a disabled client takes effect within that bound", async () => {
    const kv = fakeKv({ "client:v1:c1": record("c1") });
    await loadClient(asKv(kv), "c1", T0);
    kv.data.set("client:v1:c1", JSON.stringify(record("c1", "disabled")));
    expect((await loadClient(asKv(kv), "c1", T0 + CLIENT_CACHE_SECONDS - 1))?.status).toBe("active");
    expect((await loadClient(asKv(kv), "c1", T0 + CLIENT_CACHE_SECONDS))?.status).toBe("disabled");
    expect(kv.reads).toBe(2);
  });

  it("forgets a client deleted from KV once the interval is over", async () => {
    const kv = fakeKv({ "client:v1:c1": record("c1") });
    await loadClient(asKv(kv), "c1", T0);
    kv.data.delete("client:v1:c1");
    expect(await loadClient(asKv(kv), "c1", T0 + CLIENT_CACHE_SECONDS)).toBeNull();
  });

  it("does not cache an unknown client: one registered a moment later works at once", async () => {
    const kv = fakeKv();
    expect(await loadClient(asKv(kv), "c2", T0)).toBeNull();
    kv.data.set("client:v1:c2", JSON.stringify(record("c2")));
    expect(await loadClient(asKv(kv), "c2", T0 + 1)).toMatchObject({ client_id: "c2" });
  });

  it("does not cache a record that fails its schema", async () => {
    const kv = fakeKv({ "client:v1:c3": { client_id: "c3", status: "active" } });
    expect(await loadClient(asKv(kv), "c3", T0)).toBeNull();
    kv.data.set("client:v1:c3", JSON.stringify(record("c3")));
    expect(await loadClient(asKv(kv), "c3", T0 + 1)).toMatchObject({ client_id: "c3" });
  });

  it("re-reads when the clock went back, rather than trusting the copy longer", async () => {
    const kv = fakeKv({ "client:v1:c1": record("c1") });
    await loadClient(asKv(kv), "c1", T0);
    await loadClient(asKv(kv), "c1", T0 - 1);
    expect(kv.reads).toBe(2);
  });

  it("keeps at most MAX_CACHED_CLIENTS records, dropping the oldest", async () => {
    const kv = fakeKv(Object.fromEntries(Array.from({ length: MAX_CACHED_CLIENTS + 1 }, (_, i) => [`client:v1:c${i}`, record(`c${i}`)])));
    for (let i = 0; i <= MAX_CACHED_CLIENTS; i++) await loadClient(asKv(kv), `c${i}`, T0);
    kv.reads = 0;
    await loadClient(asKv(kv), `c${MAX_CACHED_CLIENTS}`, T0);
    expect(kv.reads).toBe(0);
    await loadClient(asKv(kv), "c0", T0);
    expect(kv.reads).toBe(1);
  });

  it("throws StoreUnavailableError when KV cannot be read and nothing fresh is held", async () => {
    const kv = fakeKv({ "client:v1:c1": record("c1") });
    kv.failing = true;
    await expect(loadClient(asKv(kv), "c1", T0)).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
