// Reads a request body as UTF-8 text without ever buffering more than a cap: a declared
// Content-Length over the cap is refused unread, and a streamed body is cut off the moment it
// passes the cap (Content-Length may be absent or lie). Every endpoint that reads a body uses it.
import { ok, refuse, type Result } from "./result";

export type BodyProblem = "too_large" | "not_utf8";

export async function readBodyText(request: Request, maxBytes: number): Promise<Result<string, BodyProblem>> {
  if (Number(request.headers.get("content-length") ?? "0") > maxBytes) return refuse("too_large");
  if (!request.body) return ok("");
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      return refuse("too_large");
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return ok(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    return refuse("not_utf8");
  }
}
