// The MCP server the SDK serves, one fresh instance per request (createMcpHandler's factory): three
// tools over the in-memory notes. Authorization already happened in the gate (auth-gate.ts); tools
// only read who called, from the AuthInfo the gate handed the SDK.
import { McpServer, type AuthInfo, type CallToolResult } from "@modelcontextprotocol/server";
import * as z from "zod";
import { listNotes, readNote, writeNote, type Author } from "./notes";
import { TOOL_SCOPES } from "./scopes";

export const SERVER_INFO = { name: "ema-edge-demo-notes", version: "0.1.0" } as const;

/** The caller, as the gate recorded it in `AuthInfo.extra` (auth-gate.ts). */
export interface CallerClaims {
  sub: string;
  idp: string;
  email?: string;
}

const NOTE_ID = z.string().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/, "letters, digits, dot, dash, underscore");

export function createNotesServer(): McpServer {
  const server = new McpServer(SERVER_INFO, { capabilities: { tools: {} } });

  server.registerTool("list_notes", {
    title: "List notes",
    description: `Lists every note: id, title, author, last update. Needs ${scopeOf("list_notes")}.`,
    annotations: { readOnlyHint: true },
  }, async () => json(listNotes().map(({ body: _body, ...summary }) => summary)));

  server.registerTool("read_note", {
    title: "Read a note",
    description: `Returns one note with its body. Needs ${scopeOf("read_note")}.`,
    inputSchema: z.object({ id: NOTE_ID }),
    annotations: { readOnlyHint: true },
  }, async ({ id }) => {
    const note = readNote(id);
    return note ? json(note) : { isError: true, content: [{ type: "text", text: `No note with id ${id}.` }] };
  });

  server.registerTool("write_note", {
    title: "Write a note",
    description: `Creates a note, or replaces the note with the given id; records the caller as author. Needs ${scopeOf("write_note")}.`,
    inputSchema: z.object({ id: NOTE_ID.optional(), title: z.string().min(1).max(200), body: z.string().max(4000) }),
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  }, async (input, ctx) => json(writeNote(input, authorOf(ctx.http?.authInfo), new Date())));

  return server;
}

/**
 * The tool's scope, for its description; throws for a tool TOOL_SCOPES does not list, so that
 * registering one fails every request loudly: the gate would let any valid token call it.
 */
function scopeOf(tool: string): string {
  const scope = TOOL_SCOPES.get(tool);
  if (scope === undefined) throw new Error(`tool ${tool} has no scope in TOOL_SCOPES`);
  return scope;
}

function authorOf(authInfo: AuthInfo | undefined): Author {
  // The gate always supplies AuthInfo; reaching a tool without it is a wiring bug, not a caller's fault.
  const caller = authInfo?.extra as CallerClaims | undefined;
  if (authInfo === undefined || caller === undefined) throw new Error("tool reached without AuthInfo");
  return { idp: caller.idp, sub: caller.sub, clientId: authInfo.clientId, ...(caller.email !== undefined && { email: caller.email }) };
}

const json = (value: unknown): CallToolResult => ({ content: [{ type: "text", text: JSON.stringify(value, null, 2) }] });
