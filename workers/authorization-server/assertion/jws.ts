// Splits a compact JWS (RFC 7515 §7.1) into its decoded header and payload without trusting either.
// Refuses JWE (five parts; encrypted ID-JAGs are only a MAY), bad base64url, non-object JSON and
// repeated member names. Signature verification happens later, once the issuer's key is known.
import { decodeBase64Url } from "../../lib/base64url";
import { ok, refuse, type Result } from "../../lib/result";
import { parseStrictJson } from "../../lib/strict-json";
import type { StructureRefusal } from "../oauth/refusal";

export interface ParsedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** The compact serialization, for the signature check. */
  compact: string;
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

export function parseCompactJws(compact: string): Result<ParsedJws, StructureRefusal> {
  const parts = compact.split(".");
  if (parts.length === 5) return refuse({ reason: "jwe_unsupported" });
  if (parts.length !== 3) return refuse({ reason: "jws_malformed", detail: "segments" });
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  if (signaturePart === "" || decodeBase64Url(signaturePart) === undefined) {
    return refuse({ reason: "jws_malformed", detail: "signature_encoding" });
  }
  const header = decodeObject(headerPart, "header");
  if (!header.ok) return header;
  const payload = decodeObject(payloadPart, "payload");
  if (!payload.ok) return payload;
  return ok({ header: header.value, payload: payload.value, compact });
}

function decodeObject(part: string, which: "header" | "payload"): Result<Record<string, unknown>, StructureRefusal> {
  const bytes = decodeBase64Url(part);
  if (bytes === undefined || bytes.length === 0) return refuse({ reason: "jws_malformed", detail: `${which}_encoding` });
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return refuse({ reason: "jws_malformed", detail: `${which}_utf8` });
  }
  const parsed = parseStrictJson(text);
  if (!parsed.ok) {
    return parsed.error === "duplicate_member"
      ? refuse({ reason: "duplicate_json_member", part: which })
      : refuse({ reason: "jws_malformed", detail: `${which}_json` });
  }
  const value = parsed.value;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return refuse({ reason: "jws_malformed", detail: `${which}_not_object` });
  }
  return ok(value as Record<string, unknown>);
}
