// Which addresses found by discovery to join, and when: never ourselves or a member already alive, and an
// address at most once per retry period, so a peer that refuses us (another gossip key, a Serf agent of
// another protocol) is not hammered and a hostile answer repeated on the link costs one join per period.
// Remembers a bounded number of addresses, forgetting the longest untried first.
import type { PeerAddress } from '../membership/transport.ts';
import { AgeOrderedMap } from '../../messaging/age-ordered-map.ts';

export interface DiscoveredPeersOptions {
  /** Addresses remembered at most: far above a LAN cluster, small enough that a flood of answers is cheap. */
  capacity: number;
  /** An address is tried again after this long. */
  retryAfterMs: number;
}

export class DiscoveredPeers {
  /** host|port → when it was last offered for a join; Map order = oldest first. */
  private readonly lastTried = new AgeOrderedMap<string, number>();

  constructor(private readonly options: DiscoveredPeersOptions) {}

  get size(): number {
    return this.lastTried.size;
  }

  /** The addresses of `found` worth a join attempt now (and marks them tried at `now`). */
  toJoin(found: readonly PeerAddress[], now: number, isKnown: (address: PeerAddress) => boolean): PeerAddress[] {
    const chosen: PeerAddress[] = [];
    for (const address of found) {
      if (isKnown(address)) continue;
      const key = `${address.host}|${address.port}`;
      const last = this.lastTried.get(key);
      if (last !== undefined && now - last < this.options.retryAfterMs) continue;
      this.lastTried.set(key, now);
      chosen.push(address);
    }
    while (this.lastTried.size > this.options.capacity) {
      this.lastTried.shift();
    }
    return chosen;
  }
}
