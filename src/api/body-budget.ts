// A bound on the bytes of JSON request bodies being read at once, over every connection
// (api.max_body_bytes_in_flight). Each body is bounded alone (api.body_limit_bytes) but their sum was not:
// any principal with a route that takes a body (a viewer has POST /mcp) could open a hundred connections, send
// each body but its last byte and stop, and the node held all of them (100 × 8 MiB: +814 MiB of RSS, measured)
// for as long as the connections stayed open. A chunk that would take the sum past the bound ends its body at
// once (503, the connection closed); what a body took comes back when it is parsed or refused.

export class BodyBudget {
  #held = 0;

  constructor(readonly maxBytes: number) {}

  /** Takes `bytes` for a body being read; false (nothing taken) when that would pass the bound. */
  take(bytes: number): boolean {
    if (this.#held + bytes > this.maxBytes) return false;
    this.#held += bytes;
    return true;
  }

  /** Gives back what a body took, once it is parsed or refused. */
  give(bytes: number): void {
    this.#held -= bytes;
  }

  /** Bytes of bodies being read now (for tests and metrics). */
  get held(): number {
    return this.#held;
  }
}
