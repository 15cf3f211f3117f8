// What the layer above (Caxton's agent registry) plugs into the gossip (memberlist delegate.go). The
// payloads are opaque to the core; foreign payloads (e.g. Serf's) reach these methods too, and it is the
// delegate's job to recognise and ignore them: it must never throw on them (a throw is caught and logged).

export interface Delegate {
  /** A user message arrived by gossip. The core does not relay it: re-queue with sendUser to relay. */
  notifyMessage?(payload: Uint8Array): void;
  /** Our state for a push-pull (join is true when we, or the peer, is joining). */
  localState?(join: boolean): Uint8Array;
  /** The peer's state from a push-pull. */
  mergeRemoteState?(state: Uint8Array, join: boolean): void;
}
