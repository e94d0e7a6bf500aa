// Registered clients from KV (`client:v1:{client_id}`). A record that fails its schema is treated
// as absent (and reported), so a bad write can lock a client out but never let one in.
// Each isolate keeps a validated record for CLIENT_CACHE_SECONDS, so a busy client costs no KV read
// (and no schema check) per request. The price is bounded staleness: a disabled client, a removed
// secret or a narrowed `allowed_resources` takes effect within CLIENT_CACHE_SECONDS in every isolate
// (plus KV's own edge cache, 60 s, as for the policy). Unknown ids are never cached, so a newly
// registered client works at once and random ids cannot fill memory.
import { KV_KEYS, checkRecord, type ClientRecord } from "../../lib/kv-records";
import { StoreUnavailableError } from "../../lib/store-error";

/** client_ids longer than this are not looked up: KV keys stop at 512 bytes. */
export const MAX_CLIENT_ID_LENGTH = 255;
/** How long an isolate trusts its copy of a client record: the revocation bound we document. */
export const CLIENT_CACHE_SECONDS = 15;
/** Real deployments have a handful of clients; past this the oldest entry goes. */
export const MAX_CACHED_CLIENTS = 256;

interface Cached {
  record: ClientRecord;
  loadedAt: number;
}
// Per isolate, insertion-ordered, so the first key is the oldest.
const cache = new Map<string, Cached>();

/**
 * The client's record, or null when absent or invalid. `now` (epoch seconds) decides whether the
 * isolate's copy is still fresh. Throws StoreUnavailableError when KV cannot be read.
 */
export async function loadClient(kv: KVNamespace, clientId: string, now: number): Promise<ClientRecord | null> {
  if (clientId.length === 0 || clientId.length > MAX_CLIENT_ID_LENGTH) return null;
  const held = cache.get(clientId);
  // `now < loadedAt` means the clock went back: do not trust the copy for longer than intended.
  if (held !== undefined && now >= held.loadedAt && now - held.loadedAt < CLIENT_CACHE_SECONDS) return held.record;
  cache.delete(clientId);
  let raw: unknown;
  try {
    raw = await kv.get(KV_KEYS.client(clientId), "json");
  } catch {
    throw new StoreUnavailableError("client_store");
  }
  if (raw === null) return null;
  const checked = checkRecord("client", raw);
  if (!checked.ok || checked.value.client_id !== clientId) {
    console.error(JSON.stringify({ type: "ema.config", problem: "client_record_invalid", client_id: clientId }));
    return null;
  }
  if (cache.size >= MAX_CACHED_CLIENTS) cache.delete(cache.keys().next().value!);
  cache.set(clientId, { record: checked.value, loadedAt: now });
  return checked.value;
}

/** Tests that rewrite a client record call this instead of waiting out the cache interval. */
export function forgetClientsForTests(): void {
  cache.clear();
}
