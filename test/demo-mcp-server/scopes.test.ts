// requiredScopesOf: the scope each MCP message needs (workers/demo-mcp-server/scopes.ts).
import { describe, expect, it } from "vitest";
import { requiredScopesOf, TOOL_SCOPES } from "../../workers/demo-mcp-server/scopes";

const call = (name: unknown) => ({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: {} } });

describe("requiredScopesOf", () => {
  it.each([
    { name: "list_notes needs notes.read", body: call("list_notes"), scopes: ["notes.read"] },
    { name: "read_note needs notes.read", body: call("read_note"), scopes: ["notes.read"] },
    { name: "write_note needs notes.write", body: call("write_note"), scopes: ["notes.write"] },
    { name: "initialize needs only a valid token", body: { jsonrpc: "2.0", id: 1, method: "initialize", params: {} }, scopes: [] },
    { name: "server/discover needs only a valid token", body: { jsonrpc: "2.0", id: 1, method: "server/discover" }, scopes: [] },
    { name: "tools/list needs only a valid token", body: { jsonrpc: "2.0", id: 1, method: "tools/list" }, scopes: [] },
    { name: "a notification needs only a valid token", body: { jsonrpc: "2.0", method: "notifications/initialized" }, scopes: [] },
    { name: "an unknown tool needs nothing extra (the SDK answers not found)", body: call("drop_tables"), scopes: [] },
    { name: "a prototype name is not a tool", body: call("constructor"), scopes: [] },
    { name: "a non-string tool name needs nothing extra", body: call({ toString: "write_note" }), scopes: [] },
    { name: "a batch needs the union of its messages", body: [call("list_notes"), call("write_note"), call("read_note")], scopes: ["notes.read", "notes.write"] },
    { name: "anything not JSON-RPC needs nothing extra", body: "write_note", scopes: [] },
    { name: "null needs nothing extra", body: null, scopes: [] },
  ])("$name", ({ body, scopes }) => {
    expect(requiredScopesOf(body)).toEqual(scopes);
  });

  it("gives every tool exactly one of the advertised scopes", () => {
    expect([...TOOL_SCOPES.values()].every((s) => s === "notes.read" || s === "notes.write")).toBe(true);
  });
});
