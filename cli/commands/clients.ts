// ema-edge clients add | list | rotate-secret | disable
// A generated secret is printed once; KV only ever holds its salted hash.
import { readFileSync } from "node:fs";
import { generateClientSecret, hashClientSecret } from "../../workers/authorization-server/client/secret";
import { KV_KEYS, checkRecord, type ClientAuthMethod, type ClientRecord } from "../../workers/lib/kv-records";
import type { KvStore } from "../../workers/lib/kv-store";
import type { Target } from "../kv-backend";
import { UsageError, withStore, type Io } from "../io";

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** How long a rotated-out secret keeps working, so clients can switch without an outage. */
export const DEFAULT_SECRET_GRACE_HOURS = 24;
const SECRET_METHODS: ClientAuthMethod[] = ["client_secret_basic", "client_secret_post"];

export interface ClientFlags {
  name?: string;
  "auth-method"?: string;
  jwks?: string;
  resource?: string[];
  "grace-hours"?: string;
  /** Development only: a chosen secret (the demo's demo-secret). Refused with --remote. */
  secret?: string;
}

export async function clientsCommand(io: Io, target: Target, sub: string | undefined, args: string[], flags: ClientFlags): Promise<number> {
  const id = args[0];
  if (flags.secret !== undefined && (sub !== "add" || target.remote)) {
    throw new UsageError("--secret is only for `clients add` on local state; a deployed client always gets a generated secret");
  }
  return withStore(io, target, async ({ kv }) => {
    switch (sub) {
      case "add": {
        if (!id) throw new UsageError("clients add CLIENT_ID [--auth-method …] [--jwks FILE] [--resource URI …]");
        if ((await kv.get(KV_KEYS.client(id))) !== null) throw new UsageError(`client ${id} exists (use rotate-secret or disable)`);
        const methods = (flags["auth-method"] ?? SECRET_METHODS.join(",")).split(",") as ClientAuthMethod[];
        const record: ClientRecord = {
          client_id: id,
          ...(flags.name && { name: flags.name }),
          status: "active",
          token_endpoint_auth_methods: methods,
          grant_types: [JWT_BEARER],
          ...(flags.resource && { allowed_resources: flags.resource }),
          ...(flags.jwks && { jwks: JSON.parse(readFileSync(flags.jwks, "utf8")) }),
        };
        const secret = methods.some((m) => SECRET_METHODS.includes(m)) ? (flags.secret ?? generateClientSecret()) : undefined;
        if (secret) record.client_secrets = [{ hash: await hashClientSecret(secret), created_at: io.now().toISOString() }];
        await writeClient(kv, record);
        io.out(`added ${id} (${methods.join(", ")})`);
        if (secret && flags.secret === undefined) io.out(`client_secret: ${secret}\nThis is the only time it is shown; ema-edge keeps only its hash.`);
        return 0;
      }
      case "list": {
        const names = await kv.list("client:v1:");
        io.out(["client_id\tstatus\tauth methods\tsecrets\tallowed resources"].join(""));
        for (const name of names) {
          const c = JSON.parse((await kv.get(name)) ?? "{}") as ClientRecord;
          io.out([c.client_id, c.status, c.token_endpoint_auth_methods?.join(","), c.client_secrets?.length ?? 0, c.allowed_resources?.join(",") ?? "any"].join("\t"));
        }
        return 0;
      }
      case "rotate-secret": {
        const record = await readClient(kv, id);
        const now = io.now();
        const graceHours = Number(flags["grace-hours"] ?? DEFAULT_SECRET_GRACE_HOURS);
        if (!Number.isFinite(graceHours) || graceHours < 0) throw new UsageError("--grace-hours takes a number ≥ 0");
        const until = new Date(now.getTime() + graceHours * 3_600_000).toISOString();
        const secret = generateClientSecret();
        const kept = (record.client_secrets ?? [])
          .filter((s) => s.expires_at === undefined || Date.parse(s.expires_at) > now.getTime())
          .map((s) => ({ ...s, expires_at: s.expires_at !== undefined && s.expires_at < until ? s.expires_at : until }));
        // The schema allows four: the newest three old ones keep their grace period.
        record.client_secrets = [...kept.slice(-3), { hash: await hashClientSecret(secret), created_at: now.toISOString() }];
        await writeClient(kv, record);
        io.out(`rotated ${record.client_id}: older secrets stop working at ${until}`);
        io.out(`client_secret: ${secret}\nThis is the only time it is shown; ema-edge keeps only its hash.`);
        return 0;
      }
      case "disable": {
        const record = await readClient(kv, id);
        record.status = "disabled";
        await writeClient(kv, record);
        io.out(`disabled ${record.client_id}: refused at the token endpoint within 60 s (KV edge cache)`);
        return 0;
      }
      default:
        throw new UsageError("clients add|list|rotate-secret|disable");
    }
  });
}

async function readClient(kv: KvStore, id: string | undefined): Promise<ClientRecord> {
  if (!id) throw new UsageError("a client_id is required");
  const text = await kv.get(KV_KEYS.client(id));
  if (text === null) throw new UsageError(`no client ${id}`);
  return JSON.parse(text) as ClientRecord;
}

async function writeClient(kv: KvStore, record: ClientRecord): Promise<void> {
  const checked = checkRecord("client", record);
  if (!checked.ok) throw new UsageError(`invalid client record: ${checked.error.map((p) => `${p.path} ${p.message}`).join("; ")}`);
  await kv.put(KV_KEYS.client(record.client_id), JSON.stringify(record));
}
