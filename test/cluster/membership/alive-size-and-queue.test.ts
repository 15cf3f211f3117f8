// Security review, finding 1: a peer without the gossip key (the default) sent compressed alive messages,
// each a new name with ~1 MiB of meta. Only our own meta was checked against memberlist's 512 bytes, and a
// broadcast larger than a packet was skipped by every packet and never removed: 100 datagrams left 2,001
// members, 1,988 pending broadcasts and 2 GB held. Now such an alive is ignored, a message no packet carries
// is never queued, and the queue holds at most maxQueuedBroadcasts (the most transmitted dropped first).
import { describe, expect, it } from 'vitest';
import { BroadcastQueue } from '../../../src/cluster/membership/broadcast-queue.ts';
import { DEFAULT_VSN, membershipConfig } from '../../../src/cluster/membership/config.ts';
import type { Alive, PacketMessage, Vsn } from '../../../src/cluster/membership/messages.ts';
import { SimCluster } from '../../../src/cluster/sim/sim-cluster.ts';

const PEER = { host: '10.250.0.1', port: 7946 };

function alive(node: string, meta: number): Alive {
  return { type: 'alive', incarnation: 1, node, addr: Uint8Array.of(10, 200, 0, 1), port: 7946, meta: new Uint8Array(meta).fill(0x41), vsn: [...DEFAULT_VSN] as Vsn };
}

async function cluster(size: number, seed: number, maxQueuedBroadcasts?: number): Promise<SimCluster> {
  const c = new SimCluster({ seed, config: () => membershipConfig('fastDetect', maxQueuedBroadcasts ? { maxQueuedBroadcasts } : {}) });
  await c.grow(size);
  expect(await c.runUntil(() => c.converged(size), 10_000), 'join converges').toBeDefined();
  return c;
}

describe('an alive from a peer', () => {
  it('is ignored when its meta exceeds memberlist MetaMaxSize (512) or its name 512 characters', async () => {
    const c = await cluster(2, 1);
    const target = c.nodes[0];
    target.host.transport.deliverPackets(PEER, [alive('big-meta', 1024 * 1024), alive('meta-513', 513), alive('n'.repeat(513), 0)]);
    target.host.transport.deliverPackets(PEER, [alive('meta-512', 512), alive('m'.repeat(512), 0)]);
    expect(target.membership.member('big-meta')).toBeUndefined();
    expect(target.membership.member('meta-513')).toBeUndefined();
    expect(target.membership.member('n'.repeat(513))).toBeUndefined();
    expect(target.membership.member('meta-512')?.state).toBe('alive');
    expect(target.membership.member('m'.repeat(512))?.state).toBe('alive');
  });
});

describe('the broadcast queue', () => {
  it('never keeps a message no packet carries: the queue drains', async () => {
    const c = await cluster(3, 2);
    const [a] = c.nodes;
    let finished = 0;
    a.membership.sendUser(new Uint8Array(a.membership.maxUserPayloadBytes + 1), undefined, () => (finished += 1));
    expect(finished).toBe(1);
    expect(await c.runUntil(() => c.nodes.every((n) => n.membership.pendingBroadcasts() === 0), 10_000), 'every queue drains').toBeDefined();
  });

  it('holds at most maxQueuedBroadcasts however many members a peer announces', async () => {
    const c = await cluster(2, 3, 64);
    const [target] = c.nodes;
    for (let i = 0; i < 500; i++) target.host.transport.deliverPackets(PEER, [alive(`fake-${i}`, 100)]);
    expect(target.membership.members()).toHaveLength(502);
    expect(target.membership.pendingBroadcasts()).toBe(64);
  });

  const user = (n: number): PacketMessage => ({ type: 'user', payload: Uint8Array.of(n) });
  const payloads = (messages: PacketMessage[]): number[] => messages.map((m) => (m as { payload: Uint8Array }).payload[0]);

  it('refuses a message larger than an empty packet, finishing it and the one it replaces', () => {
    const q = new BroadcastQueue(4, () => 10, { maxItems: 100, maxItemBytes: 100 });
    const finished: string[] = [];
    expect(q.queue({ message: user(1), size: 50, name: 'a', onFinished: () => finished.push('old') })).toBe(true);
    expect(q.queue({ message: user(2), size: 101, name: 'a', onFinished: () => finished.push('new') })).toBe(false);
    expect(finished).toEqual(['old', 'new']);
    expect(q.length).toBe(0);
    expect(q.take(2, 10_000)).toEqual([]);
  });

  it('past maxItems drops the most transmitted message, the longest at that count first, and finishes it', () => {
    const q = new BroadcastQueue(4, () => 10, { maxItems: 3, maxItemBytes: 1000 });
    const finished: number[] = [];
    const queue = (n: number): boolean => q.queue({ message: user(n), size: 10, onFinished: () => finished.push(n) });
    queue(1);
    queue(2);
    // Newest first within a count: 2 is sent, then 1, and 2 reaches one transmit first.
    expect(payloads(q.take(2, 1000))).toEqual([2, 1]);
    queue(3);
    queue(4); // four held: 1 and 2 are the most transmitted, 2 the longest at that count
    expect(finished).toEqual([2]);
    queue(5);
    expect(finished).toEqual([2, 1]);
    queue(6); // now all at zero transmits: the oldest, 3
    expect(finished).toEqual([2, 1, 3]);
    expect(q.length).toBe(3);
    expect(payloads(q.take(2, 1000)).sort()).toEqual([4, 5, 6]);
  });

  it('stays bounded and correct under a long flood of named messages', () => {
    const q = new BroadcastQueue(4, () => 1000, { maxItems: 100, maxItemBytes: 1000 });
    let finished = 0;
    let most = 0;
    for (let i = 0; i < 20_000; i++) {
      q.queue({ message: user(i & 255), size: 40, name: `n${i % 300}`, onFinished: () => (finished += 1) });
      if (i % 7 === 0) q.take(2, 400);
      most = Math.max(most, q.length);
    }
    expect(most).toBe(100);
    let sent = 0;
    for (let i = 0; i < 10_000 && q.length > 0; i++) sent += q.take(2, 1398).length;
    expect(q.length).toBe(0);
    expect(sent).toBeGreaterThan(0);
    expect(finished).toBe(20_000);
  });
});
