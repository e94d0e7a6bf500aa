// What every command gets: output streams, the clock, who is running it, the KV target.
import type { OpenStore, Runner, Target } from "./kv-backend";

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** The current time (a parameter so tests can pin it). */
  now(): Date;
  user: string;
  cwd: string;
  runner: Runner;
  fetch: typeof fetch;
  /** The ISSUER var of the target's wrangler config: where the local Worker listens. */
  localIssuer(target: Target): string;
  openStore(target: Target): Promise<OpenStore>;
}

export class UsageError extends Error {}

/** Opens the target's KV, runs `fn`, and always closes it. */
export async function withStore<T>(io: Io, target: Target, fn: (store: OpenStore) => Promise<T>): Promise<T> {
  const store = await io.openStore(target);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
