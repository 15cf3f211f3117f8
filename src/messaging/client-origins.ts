// Where an API client that is waiting for replies lives. A client on node n1 that sends a request to an
// agent on n2 waits on n1; the agent's reply is routed on n2, which holds no waiter. n2 remembers, per
// conversation, which node the client's message came from, and sends the reply back there. Bounded: the
// oldest entries go first when the map is full, and an entry is forgotten after `ttlMs` (a reply later than
// that finds nobody waiting anyway: api.max_wait_ms is far shorter).

export interface ClientOriginOptions {
  /** At most this many (client, conversation) pairs are remembered. */
  maxEntries: number;
  /** An entry older than this is ignored and dropped. */
  ttlMs: number;
  now?: () => number;
}

interface Origin {
  node: string;
  at: number;
}

export class ClientOrigins {
  readonly #entries = new Map<string, Origin>();
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: ClientOriginOptions) {
    this.#max = options.maxEntries;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** `client` (client:<principal>) of `node` sent a message in `conversationId`. */
  remember(client: string, conversationId: string, node: string): void {
    const key = keyOf(client, conversationId);
    // Re-inserting moves the entry to the young end of the Map's insertion order.
    this.#entries.delete(key);
    this.#entries.set(key, { node, at: this.#now() });
    if (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  /** The node where `client` waits for replies in `conversationId`, if it sent from another node lately. */
  nodeOf(client: string, conversationId: string): string | undefined {
    const key = keyOf(client, conversationId);
    const origin = this.#entries.get(key);
    if (origin === undefined) return undefined;
    if (this.#now() - origin.at > this.#ttlMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return origin.node;
  }
}

function keyOf(client: string, conversationId: string): string {
  return `${conversationId}\u0000${client}`;
}
