// Every request to /mcp passes ema-edge's verifier with the scopes its JSON-RPC body needs; raw
// 2025-era JSON-RPC over HTTP, real keys (as-jwks-host.mjs), real KV for the revocation mirror.
import { describe, expect, it } from "vitest";
import { MAX_MCP_BODY_BYTES } from "../../workers/demo-mcp-server/auth-gate";
import { callTool, challengeOf, foreignKey, METADATA_URL, mintToken, postMcp, revokeSubjectInMirror, revokeTokenInMirror, rpc, rpcResult, send, RESOURCE } from "./support/world";

const now = () => Math.floor(Date.now() / 1000);
const READ = "notes.read";
const WRITE = "notes.write";

/** Whether a note exists, asked with a read token: proves a refused call never reached the tool. */
async function noteExists(id: string): Promise<boolean> {
  const message = await rpcResult(await postMcp(callTool("read_note", { id }), await mintToken(READ)));
  return message.result.isError !== true;
}

async function expectInvalidToken(res: Response) {
  expect(res.status).toBe(401);
  expect(res.headers.get("cache-control")).toBe("no-store");
  const challenge = challengeOf(res);
  expect(challenge.error).toBe("invalid_token");
  expect(challenge.resource_metadata).toBe(METADATA_URL);
  expect(await res.json()).toMatchObject({ error: "invalid_token" });
}

async function expectInsufficientScope(res: Response, scope: string) {
  expect(res.status).toBe(403);
  const challenge = challengeOf(res);
  expect(challenge).toMatchObject({ error: "insufficient_scope", scope, resource_metadata: METADATA_URL });
  expect(await res.json()).toMatchObject({ error: "insufficient_scope" });
}

describe("no token", () => {
  it("answers 401 with the resource_metadata MCP clients start discovery from, and no error code (RFC 6750 §3.1)", async () => {
    const res = await postMcp(rpc("initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } }));
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe(`Bearer resource_metadata="${METADATA_URL}"`);
  });

  it("answers 401 to a GET as well", async () => {
    const res = await send(RESOURCE, { headers: { Accept: "text/event-stream" } });
    expect(res.status).toBe(401);
    expect(challengeOf(res).resource_metadata).toBe(METADATA_URL);
  });

  it("answers 401 to another auth scheme", async () => {
    const res = await postMcp(rpc("tools/list"), undefined, { Authorization: "Basic dXNlcjpwYXNz" });
    expect(res.status).toBe(401);
    expect(challengeOf(res).error).toBeUndefined();
  });
});

describe("a bad token", () => {
  const cases: { name: string; token: () => Promise<string> }[] = [
    { name: "an expired token", token: () => mintToken(READ, { claims: { iat: now() - 600, exp: now() - 120 } }) },
    { name: "a token for another resource (aud)", token: () => mintToken(READ, { claims: { aud: "http://localhost:8789/other" } }) },
    { name: "a token from another issuer (iss)", token: () => mintToken(READ, { claims: { iss: "https://evil.example" } }) },
    { name: "a token signed with a key ema-edge does not publish", token: async () => mintToken(READ, { key: await foreignKey() }) },
    { name: "an ID token (typ JWT, not at+jwt)", token: () => mintToken(READ, { header: { typ: "JWT" } }) },
    { name: "a token without the idp claim", token: () => mintToken(READ, { claims: { idp: undefined } }) },
    {
      name: "a tampered token (scope widened after signing)",
      token: async () => {
        const [header, payload, signature] = (await mintToken(READ)).split(".") as [string, string, string];
        const claims = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
        const widened = btoa(JSON.stringify({ ...claims, scope: `${READ} ${WRITE}` })).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
        return `${header}.${widened}.${signature}`;
      },
    },
    {
      name: "an unsigned token (alg none)",
      token: async () => {
        const b64 = (v: unknown) => btoa(JSON.stringify(v)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
        const payload = JSON.parse(atob((await mintToken(READ)).split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")));
        return `${b64({ alg: "none", typ: "at+jwt" })}.${b64(payload)}.`;
      },
    },
    { name: "garbage", token: async () => "not-a-jwt" },
  ];

  it.each(cases)("refuses $name with 401 invalid_token", async ({ token }) => {
    await expectInvalidToken(await postMcp(rpc("tools/list"), await token()));
  });

  it("refuses a bad token before any tool runs", async () => {
    const id = `expired-${crypto.randomUUID().slice(0, 8)}`;
    const expired = await mintToken(`${READ} ${WRITE}`, { claims: { iat: now() - 600, exp: now() - 120 } });
    await expectInvalidToken(await postMcp(callTool("write_note", { id, title: "t", body: "b" }), expired));
    expect(await noteExists(id)).toBe(false);
  });

  it("refuses a token in the query string, even a valid one (RFC 6750 §2.3)", async () => {
    const token = await mintToken(READ);
    const inQuery = (headers: Record<string, string> = {}) =>
      send(`${RESOURCE}?access_token=${token}`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18", ...headers },
        body: JSON.stringify(rpc("tools/list")),
      });
    await expectInvalidToken(await inQuery());
    await expectInvalidToken(await inQuery({ Authorization: `Bearer ${token}` }));
  });
});

describe("revocation through ema-edge's KV mirror", () => {
  it("refuses a token whose subject was revoked at or after it was issued", async () => {
    const sub = `user-${crypto.randomUUID()}`;
    const token = await mintToken(READ, { claims: { sub, iat: now() - 10 } });
    expect((await postMcp(rpc("tools/list"), token)).status).toBe(200);
    await revokeSubjectInMirror(sub, now() - 5);
    const res = await postMcp(rpc("tools/list"), token);
    await expectInvalidToken(res.clone());
    expect(challengeOf(res).error_description).toBe("The access token has been revoked.");
  });

  it("accepts the same subject's token issued after the revocation", async () => {
    const sub = `user-${crypto.randomUUID()}`;
    await revokeSubjectInMirror(sub, now() - 60);
    expect((await postMcp(rpc("tools/list"), await mintToken(READ, { claims: { sub } }))).status).toBe(200);
  });

  it("refuses a token revoked by its jti (RFC 7009)", async () => {
    const jti = crypto.randomUUID();
    const token = await mintToken(READ, { claims: { jti } });
    await revokeTokenInMirror(jti, now() + 300);
    await expectInvalidToken(await postMcp(rpc("tools/list"), token));
  });
});

describe("scopes per tool", () => {
  it("lets a read-only token initialize, list tools and call the read tools", async () => {
    const token = await mintToken(READ);
    const init = await postMcp(rpc("initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } }), token);
    expect(init.status).toBe(200);
    expect((await rpcResult(init)).result.serverInfo.name).toBe("ema-edge-demo-notes");
    const tools = await rpcResult(await postMcp(rpc("tools/list"), token));
    expect(tools.result.tools.map((t: { name: string }) => t.name)).toEqual(["list_notes", "read_note", "write_note"]);
    const list = await rpcResult(await postMcp(callTool("list_notes"), token));
    expect(JSON.parse(list.result.content[0].text).map((n: { id: string }) => n.id)).toContain("welcome");
    const read = await rpcResult(await postMcp(callTool("read_note", { id: "welcome" }), token));
    expect(JSON.parse(read.result.content[0].text).body).toContain("ema-edge");
  });

  it("refuses write_note to a read-only token with 403 insufficient_scope naming notes.write, before the tool runs", async () => {
    const id = `denied-${crypto.randomUUID().slice(0, 8)}`;
    await expectInsufficientScope(await postMcp(callTool("write_note", { id, title: "t", body: "b" }), await mintToken(READ)), WRITE);
    expect(await noteExists(id)).toBe(false);
  });

  it("refuses list_notes to a write-only token with 403 naming notes.read, but lets it list tools and write", async () => {
    const token = await mintToken(WRITE);
    await expectInsufficientScope(await postMcp(callTool("list_notes"), token), READ);
    expect((await postMcp(rpc("tools/list"), token)).status).toBe(200);
    const written = await rpcResult(await postMcp(callTool("write_note", { title: "w", body: "b" }), token));
    expect(written.result.isError).toBeUndefined();
  });

  it("refuses a legacy batch that hides a write behind a read, asking for every scope the batch needs", async () => {
    await expectInsufficientScope(await postMcp([callTool("list_notes"), callTool("write_note", { title: "t", body: "b" })], await mintToken(READ)), `${READ} ${WRITE}`);
  });

  it("lets a read+write token write and read back, recording the caller as author", async () => {
    const token = await mintToken(`${READ} ${WRITE}`, { claims: { sub: "user-bob", client_id: "client-x", email: "bob@example.test" } });
    const id = `note-${crypto.randomUUID().slice(0, 8)}`;
    const written = await rpcResult(await postMcp(callTool("write_note", { id, title: "Hello", body: "from bob" }), token));
    expect(written.result.isError).toBeUndefined();
    const read = await rpcResult(await postMcp(callTool("read_note", { id }), token));
    expect(JSON.parse(read.result.content[0].text)).toMatchObject({
      id,
      title: "Hello",
      body: "from bob",
      author: { idp: "https://idp.example.test", sub: "user-bob", clientId: "client-x", email: "bob@example.test" },
    });
  });

  it("answers an unknown tool in-band, not with a scope challenge", async () => {
    const res = await postMcp(callTool("drop_tables"), await mintToken(READ));
    expect(res.status).toBe(200);
    const message = await rpcResult(res);
    expect(message.error ?? message.result.isError).toBeTruthy();
  });
});

describe("the request around the token", () => {
  it("refuses a foreign Host (DNS rebinding) with 403, even with a valid token", async () => {
    const res = await postMcp(rpc("tools/list"), await mintToken(READ), { Host: "evil.example" });
    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toBeNull();
  });

  it("refuses a foreign Origin with 403, even with a valid token", async () => {
    const res = await postMcp(rpc("tools/list"), await mintToken(READ), { Origin: "https://evil.example" });
    expect(res.status).toBe(403);
  });

  it.each(["localhost:8789", "127.0.0.1:8789", "localhost:9999"])("accepts Host %s for a loopback RESOURCE (ports are not compared)", async (host) => {
    expect((await postMcp(rpc("tools/list"), await mintToken(READ), { Host: host })).status).toBe(200);
  });

  it("accepts a same-host Origin", async () => {
    expect((await postMcp(rpc("tools/list"), await mintToken(READ), { Origin: "http://localhost:6274" })).status).toBe(200);
  });

  it("checks the token before reporting an oversized body, then answers 413", async () => {
    const body = JSON.stringify(callTool("write_note", { title: "big", body: "x".repeat(MAX_MCP_BODY_BYTES) }));
    expect((await postMcp(body)).status).toBe(401);
    const res = await postMcp(body, await mintToken(`${READ} ${WRITE}`));
    expect(res.status).toBe(413);
  });

  it("checks the token before reporting a body that is not JSON, then answers a JSON-RPC parse error", async () => {
    expect((await postMcp("{not json")).status).toBe(401);
    const res = await postMcp("{not json", await mintToken(READ));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: -32700 } });
  });

  it("answers a GET stream request with 405 once authenticated (stateless: no standalone stream)", async () => {
    const res = await send(RESOURCE, { headers: { Accept: "text/event-stream", Authorization: `Bearer ${await mintToken(READ)}`, "MCP-Protocol-Version": "2025-06-18" } });
    expect(res.status).toBe(405);
  });

  it("issues no session id (stateless)", async () => {
    const res = await postMcp(rpc("initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } }), await mintToken(READ));
    expect(res.status).toBe(200);
    expect(res.headers.get("mcp-session-id")).toBeNull();
  });
});
