// JSON.parse that refuses an object with two members of the same name. RFC 7515 §5.2 and RFC 7519
// §7.2 require a JOSE parser to reject (or consistently pick) duplicates; JSON.parse keeps the last,
// which lets a crafted token say one thing to us and another to a different parser.

export type StrictJsonResult =
  | { ok: true; value: unknown }
  | { ok: false; error: "not_json" | "duplicate_member" };

/** Parses JSON text, refusing invalid JSON and any object with a repeated member name. */
export function parseStrictJson(text: string): StrictJsonResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: "not_json" };
  }
  return hasDuplicateMember(text) ? { ok: false, error: "duplicate_member" } : { ok: true, value };
}

/**
 * Scans already-valid JSON text for a repeated member name within one object. Names are compared
 * after decoding escapes, so `"a"` and `"\u0061"` count as the same member.
 */
function hasDuplicateMember(text: string): boolean {
  // One entry per open container: a Set of member names for objects, null for arrays.
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        const name = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.has(name)) return true;
        top.add(name);
        expectKey = false;
      }
      i = end;
    } else if (ch === "{") {
      stack.push(new Set());
      expectKey = true;
    } else if (ch === "[") {
      stack.push(null);
      expectKey = false;
    } else if (ch === "}" || ch === "]") {
      stack.pop();
    } else if (ch === ",") {
      expectKey = stack[stack.length - 1] !== null && stack.length > 0;
    }
  }
  return false;
}
