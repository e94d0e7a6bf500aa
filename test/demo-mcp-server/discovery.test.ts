// The unauthenticated surface: Protected Resource Metadata (RFC 9728), the home page, 404s.
import { describe, expect, it } from "vitest";
import { ISSUER, METADATA_URL, RESOURCE, send } from "./support/world";

const origin = new URL(RESOURCE).origin;

describe("Protected Resource Metadata", () => {
  it("is served at the path-inserted well-known URL of the resource (RFC 9728 §3.1)", async () => {
    expect(METADATA_URL).toBe(`${origin}/.well-known/oauth-protected-resource/mcp`);
    const res = await send(METADATA_URL);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toEqual({
      resource: RESOURCE,
      authorization_servers: [ISSUER],
      scopes_supported: ["notes.read", "notes.write"],
      bearer_methods_supported: ["header"],
      resource_name: "ema-edge demo notes",
    });
  });

  it("is also served at the bare well-known path, for clients that start from the origin", async () => {
    const res = await send(`${origin}/.well-known/oauth-protected-resource`);
    expect(res.status).toBe(200);
    expect((await res.json<{ resource: string }>()).resource).toBe(RESOURCE);
  });

  it("is readable cross-origin and answers a CORS preflight", async () => {
    expect((await send(METADATA_URL)).headers.get("access-control-allow-origin")).toBe("*");
    const preflight = await send(METADATA_URL, { method: "OPTIONS", headers: { Origin: "https://inspector.example", "Access-Control-Request-Method": "GET" } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("answers 405 to a write", async () => {
    const res = await send(METADATA_URL, { method: "POST", body: "{}" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toContain("GET");
  });
});

describe("other paths", () => {
  it("GET / says what this server is", async () => {
    const res = await send(`${origin}/`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain("ema-edge demo MCP server");
    expect(text).toContain(RESOURCE);
    expect(text).toContain(METADATA_URL);
  });

  it.each(["/mcp/extra", "/.well-known/oauth-protected-resource/other", "/.well-known/oauth-authorization-server", "/favicon.ico"])("answers 404 at %s", async (path) => {
    const res = await send(`${origin}${path}`);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe("Not found\n");
  });
});
