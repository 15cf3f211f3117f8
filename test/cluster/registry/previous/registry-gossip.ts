// FROZEN: src/cluster/registry/registry-gossip.ts as of commit ff576b1 (the version before registry stamps), imports
// pointed at src/ or at the other frozen files. What a node of the previous version runs: previous-decoder.test.ts
// feeds it the bytes of the current version. Do not edit; replace it when the previous release changes.
// The registry on the membership's gossip: this node's writes and the updates it learns go out as user
// messages through the broadcast queue (a newer update of an agent replaces the queued older one), and the
// whole registry rides in push-pull user state to repair what gossip missed. A peer that is not Caxton (a
// stock Serf agent) logs our payloads as unknown and carries on; theirs are ignored here.
import { CAXTON_MAGIC, PayloadKind } from '../../../../src/cluster/caxton-payload.ts';
import type { AgentRegistry } from './agent-registry.ts';
import { encodeUpdate } from './registry-codec.ts';
import type { RegistryEntry } from '../../../../src/cluster/registry/registry-entry.ts';

/** What the registry needs of the membership (Membership implements it). */
export interface UserGossip {
  sendUser(payload: Uint8Array, key?: string, onFinished?: () => void): void;
  readonly maxUserPayloadBytes: number;
}

export const REGISTRY_GOSSIP_DEFAULTS = {
  /**
   * Registry updates waiting in the broadcast queue at most (Serf's MaxQueueDepth is 4096 for the same
   * reason): a bulk deploy of 100,000 agents would otherwise hold 100,000 updates (~15 MB) and delay every
   * SWIM message behind them. Beyond it, updates are not gossiped; push-pull carries them.
   */
  maxQueued: 4096,
  /**
   * Push-pull user state at most: under memberlist's 20 MiB limit on a whole push-pull stream (wire
   * pushpull.ts MAX_PUSH_STATE_BYTES), with room for the member list. A larger registry goes in slices,
   * one per push-pull, in turn.
   */
  maxStateBytes: 16 * 1024 * 1024,
};

export interface RegistryGossipStats {
  /** Updates now in the broadcast queue. */
  queued: number;
  /** Updates not gossiped because the queue held maxQueued (push-pull carries them). */
  skippedQueueFull: number;
  /** Updates larger than a gossip packet (push-pull carries them). */
  skippedTooLarge: number;
  /** Updates received that changed the registry (and were relayed). */
  received: number;
}

export class RegistryGossip {
  private readonly counters: RegistryGossipStats = { queued: 0, skippedQueueFull: 0, skippedTooLarge: 0, received: 0 };

  constructor(
    private readonly registry: AgentRegistry,
    /** A function: the membership is built with this object's delegate, so it exists only afterwards. */
    private readonly gossip: () => UserGossip | undefined,
    private readonly limits: { maxQueued: number; maxStateBytes: number } = REGISTRY_GOSSIP_DEFAULTS,
  ) {
    registry.onSpread((entry, payload) => this.queue(entry, payload));
  }

  get stats(): RegistryGossipStats {
    return { ...this.counters };
  }

  /** True when the payload was a registry update (applied or not); false for anything else. */
  notifyMessage(payload: Uint8Array): boolean {
    if (payload.length < 2 || payload[0] !== CAXTON_MAGIC || payload[1] !== PayloadKind.registryUpdate) return false;
    const entry = this.registry.receiveUpdate(payload);
    if (entry) {
      this.counters.received += 1;
      // memberlist does not relay user messages; re-gossiping what was new to us makes it an epidemic.
      this.queue(entry, payload);
    }
    return true;
  }

  localState(): Uint8Array {
    return this.registry.localState(this.limits.maxStateBytes);
  }

  mergeRemoteState(state: Uint8Array): void {
    if (state.length < 2 || state[0] !== CAXTON_MAGIC || state[1] !== PayloadKind.registryState) return;
    this.registry.mergeState(state);
  }

  private queue(entry: RegistryEntry, payload: Uint8Array = encodeUpdate(entry)): void {
    const gossip = this.gossip();
    if (!gossip) return;
    if (payload.length > gossip.maxUserPayloadBytes) {
      this.counters.skippedTooLarge += 1;
      return;
    }
    if (this.counters.queued >= this.limits.maxQueued) {
      this.counters.skippedQueueFull += 1;
      return;
    }
    this.counters.queued += 1;
    gossip.sendUser(payload, `registry:${entry.name}`, () => {
      this.counters.queued -= 1;
    });
  }
}
