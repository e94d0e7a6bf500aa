// Registered clients from KV (`client:v1:{client_id}`). A record that fails its schema is treated
// as absent (and reported), so a bad write can lock a client out but never let one in.
import { KV_KEYS, checkRecord, type ClientRecord } from "../../lib/kv-records";
import { StoreUnavailableError } from "../../lib/store-error";

/** client_ids longer than this are not looked up: KV keys stop at 512 bytes. */
export const MAX_CLIENT_ID_LENGTH = 255;

export async function loadClient(kv: KVNamespace, clientId: string): Promise<ClientRecord | null> {
  if (clientId.length === 0 || clientId.length > MAX_CLIENT_ID_LENGTH) return null;
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
  return checked.value;
}
