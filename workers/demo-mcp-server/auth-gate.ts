// The gate in front of the MCP endpoint: reads the JSON-RPC body once (capped), decides the scopes it
// needs (scopes.ts), checks the Bearer token with ema-edge's verifier (signature, iss, aud, time,
// revocation mirror, scopes) and hands the SDK the parsed body and the caller as AuthInfo. The SDK
// itself verifies nothing (createMcpHandler: "authInfo ... is never derived from request headers").
import { readRequestBody, type AuthInfo } from "@modelcontextprotocol/server";
import type { AccessTokenVerifier } from "../lib/verifier";
import { requiredScopesOf } from "./scopes";
import type { CallerClaims } from "./tools";

/** Far above any notes call (a note body is ≤ 4000 characters); the SDK's default is 4 MiB. */
export const MAX_MCP_BODY_BYTES = 64 * 1024;

export type GateOutcome = { ok: true; authInfo: AuthInfo; parsedBody: unknown } | { ok: false; response: Response };

type Body = { kind: "none" } | { kind: "json"; value: unknown } | { kind: "too_large" } | { kind: "not_json" };

/**
 * Admits a request to the MCP endpoint or answers it. The token is checked before anything about
 * the body is reported, so an unauthenticated caller learns only "401" whatever it sent. The body
 * the scopes were decided from is the body the SDK dispatches (passed as `parsedBody`, never read
 * twice), so a caller cannot have one message checked and another served.
 */
export async function admitMcpRequest(request: Request, verifier: AccessTokenVerifier, resource: URL, resourceMetadataUrl: string): Promise<GateOutcome> {
  const body = request.method.toUpperCase() === "POST" ? await readJsonBody(request) : ({ kind: "none" } as const);
  const outcome = await verifier.verify(request, body.kind === "json" ? requiredScopesOf(body.value) : []);
  if (!outcome.ok) {
    console.log(JSON.stringify({ event: "mcp_refused", reason: outcome.reason, status: outcome.response.status }));
    return { ok: false, response: outcome.response };
  }
  if (body.kind === "too_large") return { ok: false, response: jsonRpcError(413, -32000, `Request body exceeds ${MAX_MCP_BODY_BYTES} bytes`) };
  if (body.kind === "not_json") return { ok: false, response: jsonRpcError(400, -32700, "Parse error: the request body is not valid JSON") };

  const { claims, scopes } = outcome;
  const extra: CallerClaims = { sub: claims.sub, idp: claims.idp };
  // ema-edge's tokens carry no email today; an AS that adds one gets it recorded as the author's.
  const email = (claims as unknown as { email?: unknown }).email;
  if (typeof email === "string") extra.email = email;
  const authInfo: AuthInfo = {
    token: bearerTokenOf(request),
    clientId: claims.client_id,
    scopes,
    expiresAt: claims.exp,
    resource,
    resourceMetadataUrl,
    extra: { ...extra },
  };
  return { ok: true, authInfo, parsedBody: body.kind === "json" ? body.value : undefined };
}

async function readJsonBody(request: Request): Promise<Body> {
  let text: string;
  try {
    const read = await readRequestBody(request, MAX_MCP_BODY_BYTES);
    if (read.tooLarge) return { kind: "too_large" };
    text = read.text;
  } catch {
    return { kind: "not_json" }; // the stream broke: nothing to dispatch either way
  }
  try {
    return { kind: "json", value: JSON.parse(text) };
  } catch {
    return { kind: "not_json" };
  }
}

/** The verifier accepted the header, so it is `Bearer <token>`. */
const bearerTokenOf = (request: Request): string => (request.headers.get("authorization") ?? "").trim().split(/ +/)[1] ?? "";

const jsonRpcError = (status: number, code: number, message: string): Response =>
  Response.json({ jsonrpc: "2.0", error: { code, message }, id: null }, { status });
