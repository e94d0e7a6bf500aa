// ema-edge secret generate — a webhook or stream secret and the hash policy keeps.
// ema-edge admin-token generate — the ADMIN_TOKEN secret of the admin API.
import { join } from "node:path";
import { generateSharedSecret, hashSharedSecret } from "../../workers/lib/shared-secret";
import { readDevVar, writeDevVar } from "../dev-vars";
import { UsageError, type Io } from "../io";

export async function secretCommand(io: Io, sub: string | undefined): Promise<number> {
  if (sub !== "generate") throw new UsageError("secret generate");
  const secret = generateSharedSecret();
  io.out(`secret:        ${secret}   (give this to the IdP; it is not shown again)`);
  io.out(`secret_sha256: ${await hashSharedSecret(secret)}   (put this in the policy)`);
  return 0;
}

export async function adminTokenCommand(io: Io, remote: boolean, sub: string | undefined, flags: { force?: boolean; push?: boolean }): Promise<number> {
  if (sub !== "generate") throw new UsageError("admin-token generate [--remote --push] [--force]");
  const token = generateSharedSecret();
  if (remote) {
    if (!flags.push) throw new UsageError("--remote admin-token needs --push (it goes straight to `wrangler secret put ADMIN_TOKEN`)");
    const r = io.runner(["secret", "put", "ADMIN_TOKEN"], token);
    if (r.status !== 0) {
      io.err(`wrangler secret put failed: ${r.stderr.trim().split("\n").slice(-1)[0] ?? ""}`);
      return 1;
    }
    io.out(`admin token: ${token}\nKeep it in EMA_EDGE_ADMIN_TOKEN for \`ema-edge revoke --remote\`; it is not shown again.`);
    return 0;
  }
  const path = join(io.cwd, ".dev.vars");
  if (readDevVar(path, "ADMIN_TOKEN") && !flags.force) {
    io.out(".dev.vars already has ADMIN_TOKEN (use --force to replace it)");
    return 0;
  }
  writeDevVar(path, "ADMIN_TOKEN", token);
  io.out("wrote ADMIN_TOKEN to .dev.vars");
  return 0;
}
