// The official MCP client (@modelcontextprotocol/client) against the demo server inside workerd,
// in both protocol eras: 2025 (stateless legacy serving) and 2026-07-28 (per-request envelope).
import { Client, InsufficientScopeError, StreamableHTTPClientTransport, UnauthorizedError } from "@modelcontextprotocol/client";
import { describe, expect, it } from "vitest";
import { mintToken, send, RESOURCE } from "./support/world";

const ERAS = [
  { era: "2025 (legacy, stateless)", mode: "legacy" as const, version: "2025-11-25" },
  { era: "2026-07-28", mode: { pin: "2026-07-28" }, version: "2026-07-28" },
];

/** A client whose transport carries `token` and reaches the Worker through `send`, recording each exchange. */
async function connect(mode: (typeof ERAS)[number]["mode"], token: string | undefined, log: string[] = []) {
  const transport = new StreamableHTTPClientTransport(new URL(RESOURCE), {
    authProvider: { token: async () => token },
    fetch: async (input, init) => {
      const res = await send(input instanceof Request ? input : String(input), init);
      log.push(`${init?.method ?? "GET"} ${res.status}`);
      return res;
    },
  });
  const client = new Client({ name: "demo-test", version: "1.0.0" }, { versionNegotiation: { mode } });
  await client.connect(transport);
  return client;
}

const textOf = (result: { content?: unknown }) => ((result.content as { type: string; text: string }[])[0]!).text;

describe.each(ERAS)("the official MCP client, era $era", ({ mode, version }) => {
  it("connects with a read token, lists the tools and calls the read tools", async () => {
    const client = await connect(mode, await mintToken("notes.read"));
    expect(client.getNegotiatedProtocolVersion()).toBe(version);
    expect(client.getServerVersion()?.name).toBe("ema-edge-demo-notes");
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(["list_notes", "read_note", "write_note"]);
    expect(tools.find((t) => t.name === "write_note")?.annotations?.readOnlyHint).toBe(false);
    const list = await client.callTool({ name: "list_notes", arguments: {} });
    expect(JSON.parse(textOf(list)).map((n: { id: string }) => n.id)).toEqual(expect.arrayContaining(["welcome", "scopes"]));
    const read = await client.callTool({ name: "read_note", arguments: { id: "scopes" } });
    expect(JSON.parse(textOf(read)).title).toBe("Scopes");
    await client.close();
  });

  it("surfaces the 403 challenge for write_note with a read token as InsufficientScopeError naming notes.write", async () => {
    const client = await connect(mode, await mintToken("notes.read"));
    const error = await client.callTool({ name: "write_note", arguments: { title: "t", body: "b" } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InsufficientScopeError);
    expect((error as InsufficientScopeError).requiredScope).toBe("notes.write");
    expect((error as InsufficientScopeError).resourceMetadataUrl?.href).toBe(new URL("/.well-known/oauth-protected-resource/mcp", RESOURCE).href);
    await client.close();
  });

  it("writes with a read+write token and reads the note back with the caller as author", async () => {
    const client = await connect(mode, await mintToken("notes.read notes.write", { claims: { sub: "user-carol" } }));
    const written = JSON.parse(textOf(await client.callTool({ name: "write_note", arguments: { title: "From the client", body: "hello" } })));
    expect(written.author).toMatchObject({ sub: "user-carol", clientId: "client-demo" });
    const read = JSON.parse(textOf(await client.callTool({ name: "read_note", arguments: { id: written.id } })));
    expect(read).toMatchObject({ title: "From the client", body: "hello", author: { sub: "user-carol" } });
    await client.close();
  });

  it("cannot connect without a token", async () => {
    await expect(connect(mode, undefined)).rejects.toBeInstanceOf(UnauthorizedError);
  });
});

describe("serving", () => {
  it("is session-less in the 2026-07-28 era: every exchange is a single POST, no GET stream, no session id", async () => {
    const log: string[] = [];
    const client = await connect({ pin: "2026-07-28" }, await mintToken("notes.read"), log);
    await client.listTools();
    await client.close();
    expect(log.every((entry) => entry === "POST 200")).toBe(true);
  });
});
