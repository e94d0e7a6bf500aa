// The ema-edge admin CLI: policy, clients, keys, report. `--local` (the default) works on the
// state `npm run dev` uses; `--remote` on the deployed KV namespace, through wrangler.
import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { clientsCommand } from "./commands/clients";
import { keysCommand } from "./commands/keys";
import { policyCommand } from "./commands/policy";
import { reportCommand } from "./commands/report";
import { openStore, readLocalIssuer, wranglerRunner, type Target } from "./kv-backend";
import { revocationsCommand, revokeCommand } from "./commands/revocations";
import { adminTokenCommand, secretCommand } from "./commands/secrets";
import { drillCommand } from "./commands/drill";
import { UsageError, type Io } from "./io";

const USAGE = `ema-edge — admin CLI for the ema-edge authorization server

  policy validate FILE          check a policy file (YAML or JSON) as a push would
  policy diff FILE              what pushing FILE would change
  policy push FILE              validate, keep the deployed version in history, publish
                                (--remote refuses loopback issuers and the dev hook secret; --allow-dev)
  policy rollback [--to N]      publish an earlier version again
  policy history                versions kept for rollback
  clients add ID [--name N] [--auth-method client_secret_basic,client_secret_post|private_key_jwt]
                 [--jwks FILE] [--resource URI]…   (prints a generated secret once)
  clients list | rotate-secret ID [--grace-hours 24] | disable ID
  keys generate [--alg ES256|RS256|EdDSA] [--force]
  keys rotate [--force]         stage → promote → retire, one step per run
  report [FILE] [--format md|json]   the rollout sheet (exit 3 when a review is overdue)
  revoke --iss ISSUER --sub SUBJECT [--tenant T] [--reason TEXT] [--url URL]   revoke a subject now
  revocations list              revocations the KV mirror holds
  drill [--url URL] [--user alice]   revocation drill against a running deployment (see README;
                                locally it drives the dev IdP of \`npm run dev\`)
  secret generate               a webhook/stream secret and the SHA-256 the policy keeps
  admin-token generate [--force | --remote --push]   the admin API token

  --local (default) | --remote   local state (--persist-to .wrangler/state) or the deployed namespace
  --config wrangler.toml  --binding CONFIG  --file FILE (keys)  --push (keys → wrangler secret put)`;

export function defaultIo(): Io {
  return {
    out: (t) => process.stdout.write(t + "\n"),
    err: (t) => process.stderr.write(t + "\n"),
    now: () => new Date(),
    user: process.env.EMA_EDGE_USER ?? safeUser(),
    cwd: process.cwd(),
    runner: wranglerRunner,
    fetch: (...args) => fetch(...args),
    localIssuer: readLocalIssuer,
    openStore: (target) => openStore(target, wranglerRunner),
  };
}

export async function main(argv: string[], io: Io = defaultIo()): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        local: { type: "boolean" },
        remote: { type: "boolean" },
        "persist-to": { type: "string" },
        config: { type: "string" },
        binding: { type: "string" },
        to: { type: "string" },
        name: { type: "string" },
        "auth-method": { type: "string" },
        jwks: { type: "string" },
        resource: { type: "string", multiple: true },
        "grace-hours": { type: "string" },
        secret: { type: "string" },
        iss: { type: "string" },
        sub: { type: "string" },
        tenant: { type: "string" },
        reason: { type: "string" },
        url: { type: "string" },
        "hook-secret": { type: "string" },
        "client-id": { type: "string" },
        "client-secret": { type: "string" },
        "idp-port": { type: "string" },
        user: { type: "string" },
        "allow-dev": { type: "boolean" },
        alg: { type: "string" },
        file: { type: "string" },
        force: { type: "boolean" },
        push: { type: "boolean" },
        format: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values: flags, positionals } = parsed;
  const [group, sub, ...args] = positionals;
  if (flags.help || group === undefined) {
    io.out(USAGE);
    return flags.help ? 0 : 2;
  }
  const target: Target = {
    remote: flags.remote === true,
    config: flags.config ?? `${io.cwd}/wrangler.toml`,
    persistTo: flags["persist-to"] ?? `${io.cwd}/.wrangler/state`,
    binding: flags.binding ?? "CONFIG",
  };
  try {
    switch (group) {
      case "policy":
        return await policyCommand(io, target, sub, args, flags);
      case "clients":
        return await clientsCommand(io, target, sub, args, flags);
      case "keys":
        return await keysCommand(io, target.remote, sub, flags);
      case "revoke":
        return await revokeCommand(io, target, flags);
      case "revocations":
        return await revocationsCommand(io, target, sub);
      case "secret":
        return await secretCommand(io, sub);
      case "admin-token":
        return await adminTokenCommand(io, target.remote, sub, flags);
      case "drill":
        return await drillCommand(io, target, flags);
      case "report":
        return await reportCommand(io, target, [sub, ...args].filter((a): a is string => a !== undefined), flags);
      default:
        throw new UsageError(`unknown command ${group}`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n\n${USAGE}`);
      return 2;
    }
    io.err(`error: ${(error as Error).message}`);
    return 1;
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}
