// Reads and writes one variable of .dev.vars, the git-ignored file of local development secrets
// that `wrangler dev` hands to the Worker. Values are single-quoted on one line.
import { existsSync, readFileSync, writeFileSync } from "node:fs";

const line = (name: string) => new RegExp(`^${name}='(.*)'$`, "m");

export function readDevVar(path: string, name: string): string | undefined {
  return existsSync(path) ? line(name).exec(readFileSync(path, "utf8"))?.[1] : undefined;
}

export function writeDevVar(path: string, name: string, value: string): void {
  if (value.includes("'") || value.includes("\n")) throw new Error(`${name} cannot hold quotes or newlines`);
  const existing = existsSync(path) ? readFileSync(path, "utf8") : "# Local development secrets (git-ignored).\n";
  const next = line(name).test(existing) ? existing.replace(line(name), () => `${name}='${value}'`) : `${existing.trimEnd()}\n${name}='${value}'\n`;
  writeFileSync(path, next, { mode: 0o600 });
}
