// Which OAuth scopes an MCP request needs, decided from its JSON-RPC body before the SDK dispatches
// it (MCP authorization, "Scope challenge handling"): one table of tool → scope, read by the auth
// gate and by tool registration, so a tool cannot be served without a scope. Pure: no SDK, no env.

export const READ_SCOPE = "notes.read";
export const WRITE_SCOPE = "notes.write";
/** Advertised in the Protected Resource Metadata; the scopes ema-edge's policy grants for this resource. */
export const SCOPES_SUPPORTED = [READ_SCOPE, WRITE_SCOPE] as const;

/**
 * The scope each tool needs. A Map, not an object literal: a tool name is attacker-chosen, and
 * `{}["constructor"]` would find something.
 */
export const TOOL_SCOPES: ReadonlyMap<string, string> = new Map([
  ["list_notes", READ_SCOPE],
  ["read_note", READ_SCOPE],
  ["write_note", WRITE_SCOPE],
]);

/**
 * The scopes a parsed JSON-RPC body needs: for each `tools/call` of a known tool, that tool's scope;
 * nothing more for every other method (`initialize`, `server/discover`, `tools/list`, `ping`,
 * notifications). Those need only a valid token for this resource: its `aud` already binds it here
 * and ema-edge never mints a token without a scope, while asking `notes.read` for them would lock a
 * write-only token out of discovering the tool it may call. An unknown tool needs nothing extra,
 * the SDK answers it "not found". A legacy (2025-03-26) batch needs the union over its messages.
 */
export function requiredScopesOf(body: unknown): string[] {
  const messages = Array.isArray(body) ? body : [body];
  const needed = new Set<string>();
  for (const message of messages) {
    const scope = toolScopeOf(message);
    if (scope !== undefined) needed.add(scope);
  }
  return [...needed].sort();
}

function toolScopeOf(message: unknown): string | undefined {
  if (typeof message !== "object" || message === null) return undefined;
  const { method, params } = message as { method?: unknown; params?: unknown };
  if (method !== "tools/call" || typeof params !== "object" || params === null) return undefined;
  const name = (params as { name?: unknown }).name;
  return typeof name === "string" ? TOOL_SCOPES.get(name) : undefined;
}
