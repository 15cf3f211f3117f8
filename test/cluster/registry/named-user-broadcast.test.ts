// Membership.sendUser with a key (memberlist NamedBroadcast): a newer registry update of an agent replaces
// the queued older one instead of both being gossiped, and the replaced one is finished.
import { describe, expect, it } from 'vitest';
import { Membership } from '../../../src/cluster/membership/memberlist.ts';
import { SimNetwork } from '../../../src/cluster/sim/sim-network.ts';

describe('keyed user broadcasts', () => {
  it('a newer message with the same key replaces the queued one; other keys and unkeyed ones stay', () => {
    const host = new SimNetwork({ seed: 1 }).addHost();
    const m = new Membership({ name: 'a', transport: host.transport, clock: host.clock, random: host.random });
    const finished: string[] = [];
    m.sendUser(Uint8Array.of(1), 'registry:echo', () => finished.push('first'));
    m.sendUser(Uint8Array.of(2), 'registry:echo', () => finished.push('second'));
    m.sendUser(Uint8Array.of(3), 'registry:other');
    m.sendUser(Uint8Array.of(4));
    expect(m.pendingBroadcasts()).toBe(3);
    expect(finished).toEqual(['first']);
    // What the registry checks an update against before queuing it: a packet minus framing.
    expect(m.maxUserPayloadBytes).toBeGreaterThan(1300);
    expect(m.maxUserPayloadBytes).toBeLessThan(host.transport.maxPacketBytes);
  });
});
