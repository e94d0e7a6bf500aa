// End to end over the three Workers in one local workerd (the stack `npm run dev` runs), driven by
// the official MCP TypeScript SDK client: the demo's story, each step asserted.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalStack, type LocalStack } from "../../local/stack";
import { runDemoStory, type Step } from "../../local/demo-story";

let stack: LocalStack;
let steps: Step[];

beforeAll(async () => {
  stack = await startLocalStack({ ports: { as: 0, idp: 0, mcp: 0 } });
  steps = await runDemoStory(stack.urls);
});
afterAll(async () => {
  await stack?.stop();
});

describe("the demo story over the three workers", () => {
  it("runs every step as expected", () => {
    expect(steps.filter((s) => !s.ok)).toEqual([]);
    expect(steps).toHaveLength(9);
  });
});
