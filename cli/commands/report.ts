// ema-edge report [FILE] [--format md|json] — the rollout sheet, from the deployed policy or a file.
import { buildReport, renderReportMarkdown } from "../../workers/lib/rollout-report";
import { readDeployedPolicy } from "../../workers/lib/policy-publish";
import type { Target } from "../kv-backend";
import { UsageError, withStore, type Io } from "../io";
import { readPolicy } from "./policy";

export async function reportCommand(io: Io, target: Target, args: string[], flags: { format?: string }): Promise<number> {
  const format = flags.format ?? "md";
  if (format !== "md" && format !== "json") throw new UsageError("--format md|json");
  const today = io.now().toISOString().slice(0, 10);
  let doc;
  if (args[0] !== undefined) {
    doc = readPolicy(io, args[0]);
    if (!doc) return 1;
  } else {
    doc = await withStore(io, target, ({ kv }) => readDeployedPolicy(kv));
    if (!doc) {
      io.err("no policy is deployed");
      return 1;
    }
  }
  const report = buildReport(doc, today);
  io.out(format === "json" ? JSON.stringify(report, null, 2) : renderReportMarkdown(report));
  return report.overdue_rules.length > 0 ? 3 : 0;
}
