// The demo's story, told with the official MCP TypeScript SDK client: zero-touch access through the
// IdP for alice (read and write), bob (read only) and carol (no access), then alice is deactivated
// at the IdP and both her next exchange and her still-unexpired token are refused. `npm run demo`
// prints it; the end-to-end tests run the same steps against a fresh stack and assert each one.
import {
  Client,
  CrossAppAccessProvider,
  StreamableHTTPClientTransport,
  discoverAndRequestJwtAuthGrant,
  exchangeJwtAuthGrant,
  requestJwtAuthorizationGrant,
} from "@modelcontextprotocol/client";
import { DEMO_CLIENT } from "./stack";

export interface StoryUrls {
  as: string;
  idp: string;
  resource: string;
  mcp: string;
}

export interface Step {
  title: string;
  ok: boolean;
  /** What happened, one line; never a token. */
  detail: string;
  ms: number;
}

export const READ_TOOL = "list_notes";
export const WRITE_TOOL = "write_note";

/** Runs every step (a failed step does not stop the story) and returns them in order. */
export async function runDemoStory(urls: StoryUrls, onStep: (step: Step) => void = () => {}): Promise<Step[]> {
  const steps: Step[] = [];
  const step = async (title: string, run: () => Promise<string>) => {
    const started = performance.now();
    let result: Step;
    try {
      result = { title, ok: true, detail: await run(), ms: 0 };
    } catch (error) {
      result = { title, ok: false, detail: (error as Error).message, ms: 0 };
    }
    result.ms = Math.round(performance.now() - started);
    steps.push(result);
    onStep(result);
  };
  const expect = (condition: boolean, message: string) => {
    if (!condition) throw new Error(message);
  };

  // A re-run against a running `npm run dev` starts from the seeded directory (no pushes).
  await fetch(`${urls.idp}/dev/reset`, { method: "POST" }).then((r) => r.body?.cancel());

  await step("the MCP server sends an unauthenticated client to ema-edge", async () => {
    const response = await fetch(urls.resource, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }, body: "{}" });
    const challenge = response.headers.get("www-authenticate") ?? "";
    expect(response.status === 401, `expected 401, got ${response.status}`);
    const prmUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
    expect(prmUrl !== undefined, "no resource_metadata in the challenge");
    const prm = (await (await fetch(prmUrl!)).json()) as { authorization_servers?: string[] };
    expect(prm.authorization_servers?.[0] === urls.as, `PRM names ${prm.authorization_servers?.join(",")}`);
    return `401, resource_metadata → authorization server ${urls.as}`;
  });

  const alice = await session(urls, "alice");
  await step("alice (engineering) connects: the client gets an ID-JAG and a token by itself", async () => {
    await alice.connect();
    return `scopes ${alice.grantedScopes()}`;
  });
  await step(`alice lists the tools and calls ${READ_TOOL} and ${WRITE_TOOL}`, async () => {
    const tools = await alice.listTools();
    await alice.call(READ_TOOL, {});
    await alice.call(WRITE_TOOL, { title: "demo", body: "written by the ema-edge demo" });
    return `tools: ${tools.join(", ")}; both calls succeeded`;
  });

  const bob = await session(urls, "bob");
  await step(`bob (sales) calls ${READ_TOOL}, and is refused ${WRITE_TOOL}`, async () => {
    await bob.connect();
    expect(!bob.grantedScopes().includes("notes.write"), `bob was granted ${bob.grantedScopes()}`);
    await bob.call(READ_TOOL, {});
    const refusal = await bob.call(WRITE_TOOL, { title: "nope", body: "bob cannot write" }).then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(refusal !== undefined, `${WRITE_TOOL} succeeded for bob`);
    return `scopes ${bob.grantedScopes()}; ${WRITE_TOOL} refused (${oneLine(refusal!)})`;
  });

  const carol = await session(urls, "carol");
  await step("carol (no group) is refused a token", async () => {
    const refusal = await carol.connect().then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(refusal !== undefined, "carol got a token");
    // The SDK surfaces ema-edge's invalid_grant by its description.
    expect(/No policy rule grants access/.test(refusal!), `unexpected refusal: ${refusal}`);
    return `refused: ${oneLine(refusal!)}`;
  });

  // Revocation: an ID-JAG alice got before, not yet redeemed, and her live access token.
  const spare = await alice.freshIdJag().catch(() => undefined);
  const token = alice.accessToken();
  await step("alice is deactivated at the IdP, which pushes an Okta event hook and an SSF SET", async () => {
    const response = await fetch(`${urls.idp}/dev/users/alice/deactivate`, { method: "POST" });
    const body = (await response.json()) as { pushes?: { url: string; status: number; ms: number }[] };
    expect(response.ok, `deactivate answered ${response.status}: ${JSON.stringify(body)}`);
    return (body.pushes ?? []).map((p) => `${new URL(p.url).pathname} → ${p.status} in ${p.ms} ms`).join("; ");
  });
  await step("her next exchange is refused (an unexpired ID-JAG minted before)", async () => {
    expect(spare !== undefined, "could not get an ID-JAG for alice before deactivating her");
    const refusal = await exchangeJwtAuthGrant({ tokenEndpoint: `${urls.as}/oauth2/token`, jwtAuthGrant: spare!, clientId: DEMO_CLIENT.id, clientSecret: DEMO_CLIENT.secret }).then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(refusal !== undefined, "the exchange succeeded");
    return `refused: ${oneLine(refusal!)}`;
  });
  await step("her still-unexpired access token is refused by the MCP server", async () => {
    expect(token !== undefined, "alice had no access token");
    const response = await fetch(urls.resource, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
    });
    const challenge = response.headers.get("www-authenticate") ?? "";
    expect(response.status === 401 && challenge.includes("invalid_token"), `MCP server answered ${response.status} ${challenge}`);
    return `401 invalid_token ("${/error_description="([^"]*)"/.exec(challenge)?.[1] ?? ""}")`;
  });
  await step("and she cannot sign in at the IdP again", async () => {
    const response = await fetch(`${urls.idp}/dev/login`, { method: "POST", body: new URLSearchParams({ username: "alice" }) });
    await response.body?.cancel();
    expect(!response.ok, "alice signed in");
    return `login refused (${response.status})`;
  });

  for (const s of [alice, bob, carol]) await s.close();
  return steps;
}

/** One user at the MCP server through the SDK: IdP login → ID token → ID-JAG → ema-edge token. */
async function session(urls: StoryUrls, username: string) {
  const login = await fetch(`${urls.idp}/dev/login`, { method: "POST", body: new URLSearchParams({ username, client_id: DEMO_CLIENT.id }) });
  const idToken = login.ok ? ((await login.json()) as { id_token: string }).id_token : undefined;
  const provider = new CrossAppAccessProvider({
    assertion: async (ctx) => {
      if (idToken === undefined) throw new Error(`${username} could not sign in at the IdP`);
      const grant = await discoverAndRequestJwtAuthGrant({
        idpUrl: urls.idp,
        audience: ctx.authorizationServerUrl,
        resource: ctx.resourceUrl,
        idToken,
        clientId: DEMO_CLIENT.id,
        clientSecret: DEMO_CLIENT.secret,
        ...(ctx.scope !== undefined && { scope: ctx.scope }),
        fetchFn: ctx.fetchFn,
      });
      return grant.jwtAuthGrant;
    },
    clientId: DEMO_CLIENT.id,
    clientSecret: DEMO_CLIENT.secret,
    expectedIssuer: urls.as,
  });
  const client = new Client({ name: "ema-edge-demo", version: "1.0.0" });
  let connected = false;
  return {
    async connect() {
      await client.connect(new StreamableHTTPClientTransport(new URL(urls.resource), { authProvider: provider }));
      connected = true;
    },
    async listTools() {
      return (await client.listTools()).tools.map((t) => t.name);
    },
    async call(name: string, args: Record<string, unknown>) {
      const result = await client.callTool({ name, arguments: args });
      if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content).slice(0, 200)}`);
      return result;
    },
    grantedScopes: () => provider.tokens()?.scope ?? "(none)",
    accessToken: () => provider.tokens()?.access_token,
    /** A new ID-JAG for the same resource, straight from the IdP (not redeemed). */
    async freshIdJag() {
      if (idToken === undefined) throw new Error("no ID token");
      const grant = await requestJwtAuthorizationGrant({ tokenEndpoint: `${urls.idp}/oauth2/token`, audience: urls.as, resource: urls.resource, idToken, clientId: DEMO_CLIENT.id, clientSecret: DEMO_CLIENT.secret, scope: "notes.read" });
      return grant.jwtAuthGrant;
    },
    async close() {
      if (connected) await client.close().catch(() => {});
    },
  };
}

const oneLine = (text: string) => text.replace(/\s+/g, " ").slice(0, 160);
