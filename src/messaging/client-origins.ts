// Where an API client that is waiting for replies lives. A client on node n1 that sends a request to an
// agent on n2 waits on n1; the agent's reply is routed on n2, which holds no waiter. n2 remembers, per
// conversation, which node the client's message came from, and sends the reply back there. Bounded: the
// oldest entries go first when the map is full, and an entry is forgotten after `ttlMs` (a reply later than
// that finds nobody waiting anyway: api.max_wait_ms is far shorter).
// The age order is a ring of keys (as in recent-set.ts), not the Map's insertion order: evicting with
// `keys().next()` after many deletes costs O(n) in V8 once the map is full. So an entry is kept for at
// least the next `maxEntries` remembers (of any pair, itself included), not the next `maxEntries` others.

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
  /** Its place in the age ring; an older place of the same key is stale and skipped. */
  slot: number;
}

export class ClientOrigins {
  readonly #entries = new Map<string, Origin>();
  readonly #ring: (string | undefined)[];
  #next = 0;
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: ClientOriginOptions) {
    this.#max = options.maxEntries;
    this.#ring = new Array<string | undefined>(options.maxEntries).fill(undefined);
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** `client` (client:<principal>) of `node` sent a message in `conversationId`. */
  remember(client: string, conversationId: string, node: string): void {
    const key = keyOf(client, conversationId);
    // Remembering again makes the entry the youngest: it takes the next place in the ring.
    const slot = this.#next;
    this.#next = slot + 1 === this.#max ? 0 : slot + 1;
    const evicted = this.#ring[slot];
    if (evicted !== undefined && this.#entries.get(evicted)?.slot === slot) this.#entries.delete(evicted);
    this.#ring[slot] = key;
    this.#entries.set(key, { node, at: this.#now(), slot });
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
