// ema-edge revoke --iss … --sub … — revoke a subject now (through the Worker's admin API, so the
// SubjectShard and the KV mirror both learn it). ema-edge revocations list — what the mirror holds.
import { join } from "node:path";
import type { SubjectRevocationRecord } from "../../workers/lib/revocation-mirror";
import { readDevVar } from "../dev-vars";
import type { Target } from "../kv-backend";
import { UsageError, withStore, type Io } from "../io";

export interface RevokeFlags {
  iss?: string;
  sub?: string;
  tenant?: string;
  reason?: string;
  url?: string;
}

export async function revokeCommand(io: Io, target: Target, flags: RevokeFlags): Promise<number> {
  if (!flags.iss || !flags.sub) throw new UsageError("revoke --iss ISSUER --sub SUBJECT [--tenant T] [--reason TEXT] [--url URL]");
  const { url, token } = adminEndpoint(io, target, flags.url);
  const res = await io.fetch(`${url}/admin/revocations`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ iss: flags.iss, sub: flags.sub, ...(flags.tenant && { tenant: flags.tenant }), ...(flags.reason && { reason: flags.reason }) }),
  });
  const body = (await res.json().catch(() => ({}))) as { revoked_before?: number; error_description?: string; error?: string };
  if (!res.ok) {
    io.err(`revoke failed: ${res.status} ${body.error_description ?? body.error ?? ""}`.trim());
    return 1;
  }
  io.out(`revoked ${flags.sub} at ${flags.iss}: tokens issued at or before ${new Date(body.revoked_before! * 1000).toISOString()} are refused`);
  return 0;
}

export async function revocationsCommand(io: Io, target: Target, sub: string | undefined): Promise<number> {
  if (sub !== "list") throw new UsageError("revocations list");
  return withStore(io, target, async ({ kv }) => {
    const names = (await kv.list("revoked:v1:")).filter((n) => !n.startsWith("revoked:v1:token:"));
    io.out("revoked_before\tiss\ttenant\tsub\tchannel\tevent");
    for (const name of names) {
      const text = await kv.get(name);
      if (text === null) continue;
      const r = JSON.parse(text) as SubjectRevocationRecord;
      io.out([new Date(r.revoked_before * 1000).toISOString(), r.iss, r.tenant ?? "-", r.sub, r.channel, r.event_type].join("\t"));
    }
    return 0;
  });
}

/** The Worker's base URL and admin token: local from wrangler.toml and .dev.vars, remote from --url and the environment. */
export function adminEndpoint(io: Io, target: Target, url: string | undefined): { url: string; token: string } {
  const token = target.remote ? process.env.EMA_EDGE_ADMIN_TOKEN : readDevVar(join(io.cwd, ".dev.vars"), "ADMIN_TOKEN");
  if (!token) throw new UsageError(target.remote ? "set EMA_EDGE_ADMIN_TOKEN" : "no ADMIN_TOKEN in .dev.vars (run `ema-edge admin-token generate`)");
  const base = url ?? (target.remote ? undefined : io.localIssuer(target));
  if (!base) throw new UsageError("--remote needs --url (the deployed issuer)");
  return { url: base.replace(/\/$/, ""), token };
}
