// `ema-edge drill` against the local stack: with the dev IdP as the trusted issuer, the drill signs
// a user in, deactivates them at the IdP (which pushes the real Event Hook and SET) and must see the
// exchange, introspection and the KV mirror refuse.
import { afterAll, beforeAll, expect, it } from "vitest";
import { defaultIo, main } from "../../cli/main";
import { kvStoreFrom } from "../../workers/lib/kv-store";
import { startLocalStack, type LocalStack } from "../../local/stack";

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack({ ports: { as: 0, idp: 0, mcp: 0 } });
});
afterAll(async () => {
  await stack?.stop();
});

it("passes through the dev IdP: exchange and introspection refuse right after the pushes are acknowledged", async () => {
  const out: string[] = [];
  const kv = kvStoreFrom((await stack.mf.getKVNamespace("CONFIG", "ema-edge")) as unknown as KVNamespace);
  const io = { ...defaultIo(), out: (t: string) => out.push(t), err: (t: string) => out.push(t), openStore: async () => ({ kv, close: async () => {} }) };
  const status = await main(["drill", "--url", stack.urls.as, "--iss", stack.urls.idp, "--user", "bob"], io);
  const report = out.join("\n");
  expect(report).toContain("dev IdP deactivated bob");
  expect(report).toMatch(/\/hooks\/okta\/dev-idp 204/);
  expect(report).toMatch(/\/ssf\/dev-idp 202/);
  expect(report).toMatch(/exchange of an unexpired ID-JAG issued before the event: refused \d+ ms/);
  expect(report).toMatch(/KV mirror .*: revoked \d+ ms/);
  expect(report).toContain("PASS");
  expect(status).toBe(0);
});
