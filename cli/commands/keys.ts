// ema-edge keys generate | rotate — the access-token signing key set (the AT_SIGNING_KEYS secret).
// Rotation is three runs, each safe on its own: stage (a new key is published, not signing),
// promote (it signs; the old one stays published), retire (the old one goes once every token it
// signed has expired). Cloudflare secrets cannot be read back, so the set lives in .dev.vars
// locally and in an operator-kept file (--file) for a deployment.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import { readDevVar, writeDevVar } from "../dev-vars";
import { UsageError, type Io } from "../io";

/** Resource servers cache our JWKS for 5 minutes: a staged key must be published that long first. */
export const STAGE_BEFORE_PROMOTE_SECONDS = 300;
/** The longest access-token lifetime policy allows: a retired key's tokens have expired by then. */
export const RETIRE_AFTER_PROMOTE_SECONDS = 3600;

type Alg = "ES256" | "RS256" | "EdDSA";
interface KeySet {
  current: string;
  keys: (JWK & { kid: string; alg: string })[];
  rotation?: { staged?: string; staged_at?: string; previous?: string; promoted_at?: string };
}

export interface KeyFlags {
  alg?: string;
  file?: string;
  force?: boolean;
  push?: boolean;
}

export async function keysCommand(io: Io, remote: boolean, sub: string | undefined, flags: KeyFlags): Promise<number> {
  const store = keyStore(io, remote, flags.file);
  switch (sub) {
    case "generate": {
      if (store.read() && !flags.force) {
        io.out(`${store.name} already holds a key set (use keys rotate, or --force to replace it)`);
        return 0;
      }
      const set: KeySet = { current: "", keys: [] };
      const key = await newKey((flags.alg ?? "ES256") as Alg, io.now());
      set.current = key.kid;
      set.keys.push(key);
      store.write(set);
      io.out(`wrote a new ${key.alg} signing key ${key.kid} to ${store.name}`);
      return push(io, flags, set);
    }
    case "rotate": {
      const set = store.read();
      if (!set) throw new UsageError(`${store.name} holds no key set (run keys generate)`);
      const message = await rotate(set, io.now(), flags);
      if (message.startsWith("wait")) {
        io.err(message);
        return 1;
      }
      store.write(set);
      io.out(message);
      return push(io, flags, set);
    }
    default:
      throw new UsageError("keys generate [--alg ES256|RS256|EdDSA] | keys rotate  [--file FILE] [--push] [--force]");
  }
}

/** One step of the rotation; mutates `set` and says what happened, or "wait …" when too early. */
export async function rotate(set: KeySet, now: Date, flags: KeyFlags): Promise<string> {
  const r = (set.rotation ??= {});
  const since = (iso?: string) => (iso ? (now.getTime() - Date.parse(iso)) / 1000 : Infinity);
  if (r.staged) {
    const wait = STAGE_BEFORE_PROMOTE_SECONDS - since(r.staged_at);
    if (wait > 0 && !flags.force) return `wait ${Math.ceil(wait)} s: ${r.staged} must be published ${STAGE_BEFORE_PROMOTE_SECONDS} s before it signs`;
    const previous = set.current;
    set.current = r.staged;
    set.rotation = { previous, promoted_at: now.toISOString() };
    return `promoted ${set.current}: it signs from the next deploy; ${previous} stays published until its tokens expire (run keys rotate again after ${RETIRE_AFTER_PROMOTE_SECONDS} s)`;
  }
  if (r.previous) {
    const wait = RETIRE_AFTER_PROMOTE_SECONDS - since(r.promoted_at);
    if (wait > 0 && !flags.force) return `wait ${Math.ceil(wait)} s: tokens signed by ${r.previous} may still be alive`;
    const retired = r.previous;
    set.keys = set.keys.filter((k) => k.kid !== retired);
    set.rotation = {};
    return `retired ${retired}: only ${set.current} is published now`;
  }
  const key = await newKey((set.keys.find((k) => k.kid === set.current)?.alg ?? "ES256") as Alg, now);
  set.keys.push(key);
  set.rotation = { staged: key.kid, staged_at: now.toISOString() };
  return `staged ${key.kid}: published from the next deploy, not signing yet (run keys rotate again after ${STAGE_BEFORE_PROMOTE_SECONDS} s)`;
}

async function newKey(alg: Alg, now: Date) {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `at-${now.toISOString().slice(0, 10)}-${crypto.randomUUID().slice(0, 8)}`;
  return { ...(await exportJWK(privateKey)), kid, alg };
}

/** `--push`: hands the set to `wrangler secret put AT_SIGNING_KEYS` on stdin (remote only). */
function push(io: Io, flags: KeyFlags, set: KeySet): number {
  if (!flags.push) return 0;
  const r = io.runner(["secret", "put", "AT_SIGNING_KEYS"], JSON.stringify(set));
  if (r.status !== 0) {
    io.err(`wrangler secret put failed: ${r.stderr.trim().split("\n").slice(-1)[0] ?? ""}`);
    return 1;
  }
  io.out("pushed AT_SIGNING_KEYS; deploy (or wait for the secret to apply) for it to take effect");
  return 0;
}

/** The key set's home: .dev.vars locally, or an operator-kept file. */
function keyStore(io: Io, remote: boolean, file: string | undefined) {
  if (file === undefined && remote) throw new UsageError("--remote keys need --file FILE (Cloudflare secrets cannot be read back)");
  const path = file ?? join(io.cwd, ".dev.vars");
  return {
    name: path,
    read(): KeySet | undefined {
      const json = file === undefined ? readDevVar(path, "AT_SIGNING_KEYS") : existsSync(path) ? readFileSync(path, "utf8") : undefined;
      return json ? (JSON.parse(json) as KeySet) : undefined;
    },
    write(set: KeySet) {
      if (file === undefined) writeDevVar(path, "AT_SIGNING_KEYS", JSON.stringify(set));
      else writeFileSync(path, JSON.stringify(set) + "\n", { mode: 0o600 });
    },
  };
}
