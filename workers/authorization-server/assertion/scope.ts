// Scope strings (RFC 6749 §3.3) and the grant's scope: policy-allowed ∩ ID-JAG scope ∩ requested
// scope (design.md). Unknown names fall out of the intersection; nothing left is a refusal.
import type { McpResource } from "../../lib/kv-records";

/** scope-token = 1*( %x21 / %x23-5B / %x5D-7E ): no quotes, backslashes, controls or non-ASCII. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
/** Enough for any real grant; bounds the work on hostile input. */
export const MAX_SCOPE_TOKENS = 64;

/** Splits a scope string into its tokens; `undefined` when any token is malformed. */
export function parseScope(value: string): string[] | undefined {
  const tokens = value.split(" ").filter((t) => t !== "");
  if (tokens.length > MAX_SCOPE_TOKENS || !tokens.every((t) => SCOPE_TOKEN.test(t))) return undefined;
  return [...new Set(tokens)];
}

export interface ScopeInputs {
  /** What policy allows this subject at this resource. */
  allowed: ReadonlySet<string>;
  /** The ID-JAG `scope` claim, parsed; absent → the resource's default scopes. */
  assertion: readonly string[] | undefined;
  /** The token request `scope` parameter, parsed; absent → no further narrowing. */
  requested: readonly string[] | undefined;
}

/** The scopes in all three sets, in the resource's own order (possibly none). */
export function intersectScopes(resource: McpResource, inputs: ScopeInputs): string[] {
  const fromAssertion = new Set(inputs.assertion ?? resource.default_scopes ?? []);
  const requested = inputs.requested === undefined ? undefined : new Set(inputs.requested);
  return resource.scopes
    .map((s) => s.name)
    .filter((name) => inputs.allowed.has(name) && fromAssertion.has(name) && (requested === undefined || requested.has(name)));
}
