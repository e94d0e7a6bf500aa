/** Thrown when a backing store (KV, a Durable Object) cannot answer: the request fails closed with 503. */
export class StoreUnavailableError extends Error {
  constructor(readonly store: string) {
    super(`${store} unavailable`);
    this.name = "StoreUnavailableError";
  }
}
