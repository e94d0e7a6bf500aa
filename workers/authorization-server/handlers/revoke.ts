// Placeholder until implemented.
import type { Env } from "../env";

export async function handleRevocation(_request: Request, _env: Env, _ctx: ExecutionContext, _requestId: string, _issuerId?: string): Promise<Response> {
  return new Response(JSON.stringify({ error: "not_implemented" }), { status: 501, headers: { "Content-Type": "application/json" } });
}
