// Shared pieces of the fuzz properties: how many runs (few in `npm test`, ≥10,000 under
// `npm run fuzz`), a `check` that runs one property and reports its count, and the arbitraries of
// hostile input: arbitrary text and bytes, base64url segments of random JSON, valid objects with
// fields replaced, deleted or repeated, and strings at and past a size cap.
import fc from "fast-check";
import { expect } from "vitest";
import { encodeBase64Url } from "../../workers/lib/base64url";

// Vite exposes VITE_* variables of the environment as import.meta.env inside workerd, where
// process.env is not the shell's: scripts/fuzz.mjs sets them, `npm test` leaves the defaults.
const viteEnv = (import.meta as { env?: Record<string, string | undefined> }).env ?? {};
const count = (value: string | undefined, fallback: number) => {
  const n = Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
};

/** Runs per pure parser: 150 in `npm test`, VITE_FUZZ_RUNS (10,000) under `npm run fuzz`. */
export const RUNS = count(viteEnv.VITE_FUZZ_RUNS, 150);
/** Runs per end-to-end HTTP property: 40 in `npm test` (each is a full Worker request), VITE_FUZZ_HTTP_RUNS under `npm run fuzz`. */
export const HTTP_RUNS = count(viteEnv.VITE_FUZZ_HTTP_RUNS, 40);
/** Whether `npm run fuzz` is running (it collects the `[fuzz]` lines into its table). */
const REPORT = viteEnv.VITE_FUZZ_REPORT === "1";
/** Per-test timeout: generous under `npm run fuzz`, where one property runs 10,000 cases. */
export const TIMEOUT_MS = REPORT ? 600_000 : 30_000;

/**
 * Runs one property `runs` times and fails with fast-check's report (seed, path, shrunk
 * counterexample) on the first case that breaks it. Under `npm run fuzz` it prints
 * `[fuzz] <parser>: <n> runs` for the summary.
 */
export async function check<Ts>(parser: string, property: fc.IProperty<Ts> | fc.IAsyncProperty<Ts>, runs = RUNS): Promise<void> {
  const details = await fc.check(property as fc.IRawProperty<Ts>, { numRuns: runs });
  if (details.failed) throw new Error(`${parser}: ${fc.defaultReportMessage(details)}`);
  if (REPORT) console.log(`[fuzz] ${parser}: ${details.numRuns} runs`);
}

/**
 * The tagged-result contract: `{ ok: true, value }`, or `{ ok: false, error }` whose reason is one
 * of `reasons`. `reasonOf` picks the reason out of the error (default: `error.reason`).
 */
export function expectKnownOutcome(
  result: unknown,
  reasons: ReadonlySet<string> | readonly string[],
  reasonOf: (error: any) => unknown = (e) => e?.reason,
): void {
  const known = reasons instanceof Set ? reasons : new Set(reasons as readonly string[]);
  expect(result).toBeTypeOf("object");
  const r = result as { ok: unknown; value?: unknown; error?: unknown };
  if (r.ok === true) return;
  expect(r.ok).toBe(false);
  const reason = reasonOf(r.error);
  if (!known.has(reason as string)) throw new Error(`unknown refusal ${JSON.stringify(reason)}; known: ${[...known].join(", ")}`);
}

/** A union's members as a runtime set, the compiler checking the list is complete and exact. */
export const reasonSet = <R extends string>(table: Record<R, true>): ReadonlySet<string> => new Set(Object.keys(table));

const encoder = new TextEncoder();
export const b64url = (text: string) => encodeBase64Url(encoder.encode(text));
export const b64json = (value: unknown) => b64url(JSON.stringify(value) ?? "null");

/** Numbers a hostile JSON document can hold, with the boundaries of NumericDate checks. */
export const numberish = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.integer({ min: 0, max: 2 ** 40 }),
  fc.constantFrom(0, -0, -1, 1e11, 1e11 + 1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 1e308, -1e308, 0.5),
);

/** A JSON value, with the awkward strings and numbers weighted in. */
export const json: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: numberish },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom("", "__proto__", "constructor", "toString", "null", "\u0000", "\ud800", "a".repeat(300)) },
  { weight: 1, arbitrary: fc.array(fc.string(), { maxLength: 4 }) },
);

/** An object from parsed JSON, arbitrary. */
export const jsonObject = fc.dictionary(fc.string({ maxLength: 12 }), json, { maxKeys: 8 });

const DELETE = Symbol("delete");

/**
 * `base` with up to five fields (named ones, or arbitrary names) replaced by arbitrary values or
 * deleted. `values` maps a field to extra candidate values for it (near-valid ones).
 */
export function mutated(
  base: Record<string, unknown>,
  values: Record<string, fc.Arbitrary<unknown>> = {},
): fc.Arbitrary<Record<string, unknown>> {
  const names = [...new Set([...Object.keys(base), ...Object.keys(values)])];
  const name = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) });
  const op = name.chain((n) =>
    fc.tuple(fc.constant(n), fc.oneof({ weight: 1, arbitrary: fc.constant<typeof DELETE>(DELETE) }, { weight: 3, arbitrary: (Object.hasOwn(values, n) ? values[n] : undefined) ?? json }, { weight: 2, arbitrary: json })),
  );
  return fc.array(op, { maxLength: 5 }).map((ops) => {
    const out: Record<string, unknown> = { ...base };
    for (const [n, v] of ops) {
      if (v === DELETE) delete out[n];
      else Object.defineProperty(out, n, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return out;
  });
}

/** JSON text of `objects`, sometimes with one of its members repeated (or a near-JSON mangling). */
export function jsonText(objects: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: objects.map((o) => JSON.stringify(o) ?? "null") },
    {
      weight: 1,
      arbitrary: fc.tuple(objects, fc.string({ maxLength: 8 }), json).map(([o, name, v]) => {
        const text = JSON.stringify(o) ?? "null";
        if (!text.startsWith("{")) return text;
        const keys = o !== null && typeof o === "object" ? Object.keys(o) : [];
        const dup = keys[0] ?? name;
        return `{${JSON.stringify(dup)}:${JSON.stringify(v) ?? "null"},${text.slice(1)}`.replace(/,}$/, "}");
      }),
    },
    { weight: 1, arbitrary: fc.tuple(objects, fc.nat(), fc.string({ unit: "binary", maxLength: 4 })).map(([o, at, junk]) => spliceAt(JSON.stringify(o) ?? "", at, junk)) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 3000 }).map((n) => "[".repeat(n) + "]".repeat(n)) },
  );
}

/** `text` with `junk` spliced in at `at` (mod its length), replacing one character. */
export function spliceAt(text: string, at: number, junk: string): string {
  const i = text.length === 0 ? 0 : at % text.length;
  return text.slice(0, i) + junk + text.slice(i + 1);
}

/** A compact-JWS-like string: three (or 1–6) segments, each base64url JSON, base64url bytes or junk. */
export function compactLike(header: fc.Arbitrary<unknown>, payload: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  const jsonSegment = (values: fc.Arbitrary<unknown>) =>
    fc.oneof(
      { weight: 8, arbitrary: values.map(b64json) },
      { weight: 4, arbitrary: jsonText(values).map(b64url) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map(encodeBase64Url) },
      { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
    );
  const signature = fc.oneof({ weight: 6, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 128 }).map(encodeBase64Url) }, { weight: 1, arbitrary: fc.constantFrom("", "===", "a", "ab=c") }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) });
  return fc.oneof(
    { weight: 6, arbitrary: fc.tuple(jsonSegment(header), jsonSegment(payload), signature).map((parts) => parts.join(".")) },
    { weight: 1, arbitrary: fc.array(fc.string({ maxLength: 16 }), { minLength: 1, maxLength: 6 }).map((parts) => parts.join(".")) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 100 }) },
  );
}

/** A string of length near `limit` (at, one under, one past), of `unit` characters. */
export const nearLimit = (limit: number, unit = "a") => fc.integer({ min: limit - 2, max: limit + 2 }).map((n) => unit.repeat(Math.max(0, n)));
