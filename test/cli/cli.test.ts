// The admin CLI end to end, in Node, against real local KV state through wrangler (the same
// state `npm run dev` uses), and against a recorded wrangler for --remote.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../cli/main";
import { openStore, type Runner, type Target } from "../../cli/kv-backend";
import type { Io } from "../../cli/io";
import { verifyClientSecret } from "../../workers/authorization-server/client/secret";
import { loadSigningKeysForTests } from "./signing-keys-node";

const repo = join(__dirname, "..", "..");
const example = join(repo, "config", "policy.example.yaml");
let dir: string;
let target: Target;
let clock = new Date("2026-11-22T10:00:00Z");

beforeAll(() => {
  process.env.WRANGLER_SEND_METRICS = "false";
  process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
  dir = mkdtempSync(join(tmpdir(), "ema-edge-cli-test-"));
  copyFileSync(join(repo, "wrangler.toml"), join(dir, "wrangler.toml"));
  target = { remote: false, config: join(dir, "wrangler.toml"), persistTo: join(dir, ".wrangler", "state"), binding: "CONFIG" };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[], runner?: Runner) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    now: () => clock,
    user: "tester",
    cwd: dir,
    runner: runner ?? (() => ({ status: 1, stdout: "", stderr: "no wrangler in tests" })),
    fetch: () => Promise.reject(new Error("no network in this test")),
    localIssuer: () => "http://localhost:8787",
    openStore: (t) => openStore(t, runner),
  };
  const code = await main(args, io);
  return { code, out: out.join("\n"), err: err.join("\n") };
}

async function readKv(key: string) {
  const store = await openStore(target);
  try {
    return await store.kv.get(key);
  } finally {
    await store.close();
  }
}

const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe("policy", () => {
  it("validates the example, and names the path of each problem in a broken file", async () => {
    expect((await run(["policy", "validate", example])).code).toBe(0);
    const broken = write("broken.yaml", readFileSync(example, "utf8").replace("review_by: 2027-06-30", "review_by: someday"));
    const r = await run(["policy", "validate", broken]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("/rules/0/review_by");
  });

  it("pushes to local state with a version stamp, diffs against it, and keeps history for rollback", async () => {
    const first = await run(["policy", "push", example]);
    expect(first.code).toBe(0);
    expect(first.out).toContain("+ rules/engineering-notes");
    const stored = JSON.parse((await readKv("policy:v1"))!);
    expect(stored).toMatchObject({ version: 1, pushed_by: "tester", pushed_at: clock.toISOString() });

    const changed = write("changed.yaml", readFileSync(example, "utf8").replace("[notes.read]               # read-only", "[notes.read, notes.write] # read-only"));
    const diff = await run(["policy", "diff", changed]);
    expect(diff.out, diff.out + diff.err).toContain("~ rules/sales-notes-read");
    expect(diff.out).toContain('scopes: ["notes.read"] → ["notes.read","notes.write"]');
    expect(JSON.parse((await readKv("policy:v1"))!).version).toBe(1); // diff writes nothing

    expect((await run(["policy", "push", changed])).code).toBe(0);
    expect(JSON.parse((await readKv("policy:v1"))!).rules[1].scopes).toEqual(["notes.read", "notes.write"]);

    const rollback = await run(["policy", "rollback"]);
    expect(rollback.code).toBe(0);
    const after = JSON.parse((await readKv("policy:v1"))!);
    expect(after).toMatchObject({ version: 3, rolled_back_from: 2 });
    expect(after.rules[1].scopes).toEqual(["notes.read"]);
    expect((await run(["policy", "history"])).out.split("\n")).toEqual(["3  (deployed)", "2", "1"]);
  });

  it("refuses to push an invalid file and leaves the deployed policy alone", async () => {
    const before = await readKv("policy:v1");
    const broken = write("broken2.yaml", "issuers: []\nresources: []\nrules: []\n");
    expect((await run(["policy", "push", broken])).code).toBe(1);
    expect(await readKv("policy:v1")).toBe(before);
  });
});

describe("clients", () => {
  it("adds a client, prints the secret once, and stores only its hash", async () => {
    const r = await run(["clients", "add", "claude-desktop", "--name", "Claude", "--resource", "http://localhost:8789/mcp"]);
    expect(r.code).toBe(0);
    const secret = /client_secret: (\S+)/.exec(r.out)![1]!;
    const stored = (await readKv("client:v1:claude-desktop"))!;
    expect(stored).not.toContain(secret);
    const record = JSON.parse(stored);
    expect(record).toMatchObject({ status: "active", allowed_resources: ["http://localhost:8789/mcp"] });
    expect(await verifyClientSecret(secret, record.client_secrets[0].hash)).toBe(true);
    expect((await run(["clients", "list"])).out).toContain("claude-desktop\tactive");
    expect((await run(["clients", "add", "claude-desktop"])).code).toBe(2);
  });

  it("rotates a secret: the new one works, the old one expires after the grace period", async () => {
    const old = JSON.parse((await readKv("client:v1:claude-desktop"))!).client_secrets[0].hash;
    const r = await run(["clients", "rotate-secret", "claude-desktop", "--grace-hours", "2"]);
    const secret = /client_secret: (\S+)/.exec(r.out)![1]!;
    const record = JSON.parse((await readKv("client:v1:claude-desktop"))!);
    expect(record.client_secrets).toHaveLength(2);
    expect(record.client_secrets[0]).toMatchObject({ hash: old, expires_at: "2026-11-22T12:00:00.000Z" });
    expect(await verifyClientSecret(secret, record.client_secrets[1].hash)).toBe(true);
  });

  it("disables a client", async () => {
    expect((await run(["clients", "disable", "claude-desktop"])).code).toBe(0);
    expect(JSON.parse((await readKv("client:v1:claude-desktop"))!).status).toBe("disabled");
  });

  it("refuses a chosen secret for a deployed namespace", async () => {
    expect((await run(["clients", "add", "x", "--secret", "weak", "--remote"])).code).toBe(2);
  });
});

describe("keys", () => {
  it("generates a set, then rotates stage → promote → retire, each step only when it is safe", async () => {
    expect((await run(["keys", "generate"])).code).toBe(0);
    const read = () => JSON.parse(/AT_SIGNING_KEYS='(.*)'/.exec(readFileSync(join(dir, ".dev.vars"), "utf8"))![1]!);
    const first = read().current;

    expect((await run(["keys", "rotate"])).out).toMatch(/^staged /);
    const staged = read();
    expect(staged.keys).toHaveLength(2);
    expect(staged.current).toBe(first); // published, not signing yet

    expect((await run(["keys", "rotate"])).code).toBe(1); // too early to promote
    clock = new Date(clock.getTime() + 301_000);
    expect((await run(["keys", "rotate"])).out).toMatch(/^promoted /);
    const promoted = read();
    expect(promoted.current).not.toBe(first);
    expect(promoted.keys.map((k: { kid: string }) => k.kid)).toContain(first); // still published

    expect((await run(["keys", "rotate"])).code).toBe(1); // its tokens may still be alive
    clock = new Date(clock.getTime() + 3_601_000);
    expect((await run(["keys", "rotate"])).out).toMatch(/^retired /);
    expect(read().keys.map((k: { kid: string }) => k.kid)).toEqual([promoted.current]);

    // The Worker can load what the CLI wrote.
    expect((await loadSigningKeysForTests(read())).kid).toBe(promoted.current);
  });
});

describe("report", () => {
  it("prints the rollout sheet of the deployed policy as Markdown, and as JSON", async () => {
    const md = await run(["report"]);
    expect(md.code).toBe(0);
    expect(md.out).toContain("| `engineering-notes` | groups engineering of dev-idp | notes.read notes.write |");
    const json = JSON.parse((await run(["report", "--format", "json"])).out);
    expect(json.resources[0].scopes[1]).toMatchObject({ name: "notes.write", sensitive: true });
  });

  it("flags overdue reviews and exits 3", async () => {
    clock = new Date("2027-04-15T00:00:00Z");
    const r = await run(["report", example]);
    expect(r.code).toBe(3);
    expect(r.out).toContain("**Overdue reviews:** sales-notes-read");
  });
});

describe("--remote goes through wrangler", () => {
  /** A recorded wrangler over an in-memory namespace. */
  function fakeWrangler() {
    const kv = new Map<string, string>();
    const calls: string[][] = [];
    const runner: Runner = (args) => {
      calls.push(args);
      const [, , verb, key] = args;
      if (verb === "get") return kv.has(key!) ? { status: 0, stdout: kv.get(key!)!, stderr: "" } : { status: 1, stdout: "", stderr: "Value not found" };
      if (verb === "list") {
        const prefix = args[args.indexOf("--prefix") + 1]!;
        return { status: 0, stdout: JSON.stringify([...kv.keys()].filter((k) => k.startsWith(prefix)).map((name) => ({ name }))), stderr: "" };
      }
      if (verb === "put") {
        kv.set(key!, readFileSync(args[args.indexOf("--path") + 1]!, "utf8"));
        return { status: 0, stdout: "", stderr: "" };
      }
      return { status: 1, stdout: "", stderr: "unexpected" };
    };
    return { kv, calls, runner };
  }

  it("pushes a policy with wrangler kv key get/list/put --remote", async () => {
    const { kv, calls, runner } = fakeWrangler();
    const r = await run(["policy", "push", example, "--remote", "--allow-dev"], runner);
    expect(r.code).toBe(0);
    expect(calls.every((c) => c.includes("--remote") && c.includes("--binding"))).toBe(true);
    expect(calls.map((c) => c.slice(0, 3).join(" "))).toEqual(expect.arrayContaining(["kv key get", "kv key list", "kv key put"]));
    expect(JSON.parse(kv.get("policy:v1")!).version).toBe(1);
  });

  it("refuses to push the dev IdP and the published dev hook secret to a deployment", async () => {
    const { kv, runner } = fakeWrangler();
    const r = await run(["policy", "push", example, "--remote"], runner);
    expect(r.code).toBe(1);
    expect(r.err).toContain("issuers/dev-idp: a loopback issuer");
    expect(r.err).toContain("the published development hook secret");
    expect(kv.size).toBe(0);
  });
});
