// Reads a token-endpoint request into one value per parameter (RFC 6749 §3.2: "Request and response
// parameters MUST NOT be included more than once"), with the body capped before it is buffered.
import { ok, refuse, type Result } from "../../lib/result";
import type { RequestRefusal } from "../oauth/refusal";
import { readBodyText } from "../../lib/body";

/** Whole form body: a 16 KiB assertion plus an 8 KiB client assertion and the small parameters. */
export const MAX_FORM_BYTES = 32 * 1024;

export type FormParams = ReadonlyMap<string, string>;

/**
 * Checks method and content type, reads at most MAX_FORM_BYTES, and parses the form. Empty values
 * count as absent (RFC 6749 §3.1); a name sent twice is refused whatever its values.
 */
export async function readForm(request: Request): Promise<Result<FormParams, RequestRefusal>> {
  if (request.method !== "POST") return refuse({ reason: "method_not_allowed", method: request.method });
  const contentType = request.headers.get("content-type") ?? "";
  if (contentType.split(";")[0]!.trim().toLowerCase() !== "application/x-www-form-urlencoded") {
    return refuse({ reason: "unsupported_content_type" });
  }
  const body = await readBodyText(request, MAX_FORM_BYTES);
  if (!body.ok) return refuse(body.error === "too_large" ? { reason: "body_too_large", maxBytes: MAX_FORM_BYTES } : { reason: "malformed_body" });
  return parseForm(body.value);
}

/** Parses urlencoded text into single-valued parameters. Pure. */
export function parseForm(text: string): Result<FormParams, RequestRefusal> {
  let parsed: URLSearchParams;
  try {
    // URLSearchParams never throws on odd escapes; a lone surrogate or bad %-sequence becomes U+FFFD.
    parsed = new URLSearchParams(text);
  } catch {
    return refuse({ reason: "malformed_body" });
  }
  const params = new Map<string, string>();
  const seen = new Set<string>();
  for (const [name, value] of parsed) {
    if (seen.has(name)) return refuse({ reason: "duplicate_parameter", name: name.slice(0, 64) });
    seen.add(name);
    if (value !== "") params.set(name, value);
  }
  return ok(params);
}
