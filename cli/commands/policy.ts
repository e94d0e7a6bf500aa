// ema-edge policy validate | diff | push | rollback | history
import { readFileSync } from "node:fs";
import { parsePolicyText, stripStamps, type PolicySource } from "../../workers/lib/policy-file";
import { diffPolicy, renderDiff } from "../../workers/lib/policy-diff";
import { listPolicyVersions, publishPolicy, readDeployedPolicy, rollbackPolicy } from "../../workers/lib/policy-publish";
import type { Target } from "../kv-backend";
import { UsageError, withStore, type Io } from "../io";

export async function policyCommand(io: Io, target: Target, sub: string | undefined, args: string[], flags: { to?: string; "allow-dev"?: boolean }): Promise<number> {
  switch (sub) {
    case "validate": {
      const source = readPolicy(io, args[0]);
      if (!source) return 1;
      io.out(`${args[0]}: valid (${source.issuers.length} issuers, ${source.resources.length} resources, ${source.rules.length} rules)`);
      return 0;
    }
    case "diff":
    case "push": {
      const source = readPolicy(io, args[0]);
      if (!source) return 1;
      return withStore(io, target, async ({ kv }) => {
        const deployed = await readDeployedPolicy(kv);
        const before = deployed ? (stripStamps(deployed as unknown as Record<string, unknown>) as unknown as PolicySource) : undefined;
        const changes = diffPolicy(before, source);
        io.out(`${deployed ? `deployed: version ${deployed.version}` : "deployed: none"} (${where(target)})`);
        io.out(renderDiff(changes));
        if (sub === "diff") return 0;
        const devOnly = target.remote && !flags["allow-dev"] ? devOnlyProblems(source) : [];
        if (devOnly.length > 0) {
          io.err(`refusing to push development settings to the deployment (--allow-dev overrides):\n${devOnly.map((p) => `  ${p}`).join("\n")}`);
          return 1;
        }
        if (deployed && changes.length === 0) {
          io.out("nothing to push");
          return 0;
        }
        const pushed = await publishPolicy(kv, source, { at: io.now().toISOString(), by: io.user });
        io.out(`pushed version ${pushed.version}; isolates pick it up within 15 s (plus KV's edge cache, up to 60 s)`);
        return 0;
      });
    }
    case "rollback":
      return withStore(io, target, async ({ kv }) => {
        const to = flags.to === undefined ? undefined : Number(flags.to);
        if (to !== undefined && !Number.isSafeInteger(to)) throw new UsageError("--to takes a version number");
        const doc = await rollbackPolicy(kv, { at: io.now().toISOString(), by: io.user }, to);
        io.out(`rolled back: version ${doc.version} now holds the content of an earlier version (replacing ${doc.rolled_back_from})`);
        return 0;
      });
    case "history":
      return withStore(io, target, async ({ kv }) => {
        const deployed = await readDeployedPolicy(kv);
        for (const v of await listPolicyVersions(kv)) io.out(`${v}${v === deployed?.version ? "  (deployed)" : ""}`);
        return 0;
      });
    default:
      throw new UsageError("policy validate|diff|push FILE, policy rollback [--to N], policy history");
  }
}

/** SHA-256 of "dev-okta-hook-secret", published in config/policy.example.yaml: anyone can forge hooks with it. */
const DEV_HOOK_SECRET_SHA256 = "qv6xlhiZF9Wqrp6J4pVKQkWmojj2PMHycIwLyX9c9Yk";

/** What the example policy holds that must never reach a deployment: loopback IdPs, the public dev secret. */
export function devOnlyProblems(source: PolicySource): string[] {
  const loopback = (uri: string | undefined) => uri !== undefined && /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:|\/|$)/i.test(uri);
  const problems: string[] = [];
  for (const issuer of source.issuers) {
    if (loopback(issuer.issuer) || loopback(issuer.jwks_uri)) problems.push(`issuers/${issuer.id}: a loopback issuer (the dev IdP) would be trusted`);
    if (issuer.revocation?.okta_event_hook?.secret_sha256.includes(DEV_HOOK_SECRET_SHA256)) problems.push(`issuers/${issuer.id}: the published development hook secret would authenticate webhooks`);
  }
  return problems;
}

/** Reads and checks a policy file; prints each problem with its path. */
export function readPolicy(io: Io, file: string | undefined): PolicySource | undefined {
  if (!file) throw new UsageError("a policy file is required");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    io.err(`${file}: cannot read`);
    return undefined;
  }
  const parsed = parsePolicyText(text);
  if (parsed.ok) return parsed.value;
  for (const p of parsed.error) io.err(`${file}: ${p.path}: ${p.message}`);
  return undefined;
}

export const where = (target: Target) => (target.remote ? "remote" : `local ${target.persistTo}`);
