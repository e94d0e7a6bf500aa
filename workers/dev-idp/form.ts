// Reads request bodies: never more than a cap (a declared Content-Length over it is refused unread,
// a streamed body is cut off as it passes it), one value per parameter (RFC 6749 §3.2), empty
// values as absent (§3.1). It shares only workers/lib with the authorization server (the capped
// reader), so a dev-only tool cannot change production behaviour.
import { readBodyText } from "../lib/body";
import { ok, refuse, type Result } from "../lib/result";
import type { Reason } from "./errors";

/** An ID token is ~1 KB; the exchange's other parameters are short. */
export const MAX_FORM_BYTES = 16 * 1024;

export type Params = ReadonlyMap<string, string>;
type BodyRefusal = Extract<Reason, "method_not_allowed" | "unsupported_content_type" | "body_too_large" | "malformed_body" | "duplicate_parameter">;

/** A POSTed application/x-www-form-urlencoded body as single-valued parameters. */
export async function readForm(request: Request): Promise<Result<Params, BodyRefusal>> {
  if (request.method !== "POST") return refuse("method_not_allowed");
  if (mediaType(request) !== "application/x-www-form-urlencoded") return refuse("unsupported_content_type");
  const text = await readCappedText(request, MAX_FORM_BYTES);
  return text.ok ? parseForm(text.value) : text;
}

/** Admin calls take a form or a JSON object of strings; no body is an empty parameter set. */
export async function readFormOrJson(request: Request): Promise<Result<Params, BodyRefusal>> {
  if (request.method !== "POST") return refuse("method_not_allowed");
  const type = mediaType(request);
  if (type === "application/x-www-form-urlencoded") return readForm(request);
  if (type !== "application/json" && type !== "") return refuse("unsupported_content_type");
  const text = await readCappedText(request, MAX_FORM_BYTES);
  if (!text.ok) return text;
  if (text.value.trim() === "") return ok(new Map());
  let body: unknown;
  try {
    body = JSON.parse(text.value);
  } catch {
    return refuse("malformed_body");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return refuse("malformed_body");
  const params = new Map<string, string>();
  for (const [name, value] of Object.entries(body)) {
    if (typeof value !== "string") return refuse("malformed_body");
    if (value !== "") params.set(name, value);
  }
  return ok(params);
}

export function parseForm(text: string): Result<Params, BodyRefusal> {
  const params = new Map<string, string>();
  const seen = new Set<string>();
  for (const [name, value] of new URLSearchParams(text)) {
    if (seen.has(name)) return refuse("duplicate_parameter");
    seen.add(name);
    if (value !== "") params.set(name, value);
  }
  return ok(params);
}

export function mediaType(request: Request): string {
  return (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
}

/** The shared capped reader, with this IdP's refusal names. */
async function readCappedText(request: Request, maxBytes: number): Promise<Result<string, BodyRefusal>> {
  const text = await readBodyText(request, maxBytes);
  return text.ok ? text : refuse(text.error === "too_large" ? "body_too_large" : "malformed_body");
}
