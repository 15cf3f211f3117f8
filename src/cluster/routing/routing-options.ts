// The settings of the routing links, each default with its reason. The node fills them from `routing.*`.

export interface RoutingLinkSettings {
  /** Largest frame accepted or sent (bytes). A bigger announced frame closes the link before it is buffered. */
  maxFrameBytes: number;
  /** Messages held per peer (queued + written but not yet acknowledged); past it sendMessage answers 'full'. */
  queueMaxMessages: number;
  /**
   * Bytes (encoded) held per peer, same rule. Requests and answers to the peer count too until written; an
   * answer past it is replaced by a short BUSY refusal (see maxRequestsInFlight).
   */
  queueMaxBytes: number;
  /** Frames whose payload is above this many bytes are deflated; Infinity = never (routing.compress off). */
  compressAboveBytes: number;
  /** A dial (TCP + TLS + hello) that takes longer fails. */
  connectTimeoutMs: number;
  /** Reconnect backoff after a failed dial: first delay, doubled up to the max, with ±50% jitter. */
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  /**
   * Requests awaiting an answer per peer; requests served at once per peer; BUSY refusals held past
   * queueMaxBytes for a peer that does not read them (one more closes its link: within its own in-flight
   * bound a peer never has more unread).
   */
  maxRequestsInFlight: number;
  /**
   * Connections accepted and not yet through TLS + hello at once; more are closed (unauthenticated work is
   * capped). Established links do not count.
   */
  maxHandshakes: number;
  /** Payload bytes per MESSAGES frame: bigger batches save little and delay the receiver's first message. */
  batchBytes: number;
  /**
   * Messages written and not acknowledged for this long close the link (their senders get `failure`
   * LINK_LOST): a peer that accepts a link and then never reads, or reads and never acknowledges, would
   * otherwise hold up to queueMaxMessages in silence for as long as its connection stays open.
   */
  ackTimeoutMs: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

export const ROUTING_LINK_DEFAULTS: RoutingLinkSettings = {
  // A module fetched by sha256 travels in one response: agents.max_module_bytes (16 MiB) plus headroom.
  maxFrameBytes: 20 * MiB,
  // ~30 ms of traffic at 330k msg/s: absorbs a burst and a GC pause of the peer; a dead peer costs at most this.
  queueMaxMessages: 10_000,
  // 16 MiB: 10,000 messages of 1.6 KiB, or a few large ones; bounded per peer, so 10 peers stay under 200 MiB.
  queueMaxBytes: 16 * MiB,
  compressAboveBytes: Infinity,
  // A TLS handshake is ~3 ms on a LAN; 5 s also covers a WAN and a peer busy with GC, yet fails a dead peer
  // long before gossip's 5 s death detection would let messages pile up.
  connectTimeoutMs: 5000,
  reconnectInitialMs: 200,
  reconnectMaxMs: 10_000,
  maxRequestsInFlight: 1024,
  maxHandshakes: 64,
  batchBytes: 256 * KiB,
  // Far above a GC pause, and above a full queueMaxBytes draining over a 10 Mbit/s link (~13 s); a peer
  // whose event loop stalls that long is declared dead by gossip well before.
  ackTimeoutMs: 30_000,
};
