import { describe, expect, it } from 'vitest';
import { BroadcastQueue } from '../../../src/cluster/membership/broadcast-queue.ts';
import type { PacketMessage } from '../../../src/cluster/membership/messages.ts';

const user = (n: number): PacketMessage => ({ type: 'user', payload: new Uint8Array([n]) });
const suspect = (node: string, inc: number): PacketMessage => ({ type: 'suspect', node, incarnation: inc, from: 'x' });

describe('BroadcastQueue (TransmitLimitedQueue)', () => {
  it('sends each message retransmitLimit times, then finishes it', () => {
    let n = 1; // limit = 4 * max(2, ceil(log10(2))) = 8 (timing.ts retransmitLimit)
    const q = new BroadcastQueue(4, () => n);
    let finished = 0;
    q.queue({ message: user(1), size: 10, onFinished: () => (finished += 1) });
    for (let i = 0; i < 8; i++) expect(q.take(2, 1000)).toHaveLength(1);
    expect(q.take(2, 1000)).toHaveLength(0);
    expect(finished).toBe(1);
    expect(q.length).toBe(0);
    n = 10;
  });
  it('a newer message about the same node invalidates the older one', () => {
    const q = new BroadcastQueue(4, () => 10);
    let finished = 0;
    q.queue({ message: suspect('a', 1), size: 20, name: 'a', onFinished: () => (finished += 1) });
    q.queue({ message: suspect('b', 1), size: 20, name: 'b' });
    q.queue({ message: suspect('a', 2), size: 20, name: 'a' });
    expect(finished).toBe(1);
    expect(q.length).toBe(2);
    const sent = q.take(2, 1000) as { node: string; incarnation: number }[];
    expect(sent.map((m) => `${m.node}${m.incarnation}`).sort()).toEqual(['a2', 'b1']);
  });
  it('user messages are never invalidated', () => {
    const q = new BroadcastQueue(4, () => 10);
    q.queue({ message: user(1), size: 5 });
    q.queue({ message: user(2), size: 5 });
    expect(q.length).toBe(2);
  });
  it('prefers the least transmitted messages and respects the byte limit', () => {
    const q = new BroadcastQueue(4, () => 100); // limit 12
    q.queue({ message: user(1), size: 100 });
    expect(q.take(2, 1000)).toHaveLength(1); // user(1) now at 1 transmit
    q.queue({ message: user(2), size: 100 });
    const first = q.take(2, 103);
    expect(first).toHaveLength(1);
    expect((first[0] as { payload: Uint8Array }).payload[0]).toBe(2);
    expect(q.take(2, 50)).toHaveLength(0); // nothing fits
    const both = q.take(2, 1000);
    expect(both).toHaveLength(2);
  });
  it('never returns the same message twice in one packet', () => {
    const q = new BroadcastQueue(4, () => 1000);
    q.queue({ message: user(1), size: 10 });
    expect(q.take(2, 10_000)).toHaveLength(1);
  });
  it('stays fast and correct with thousands of messages', () => {
    const q = new BroadcastQueue(4, () => 1000); // limit 16
    for (let i = 0; i < 2000; i++) q.queue({ message: suspect(`n${i}`, 1), size: 40, name: `n${i}` });
    let sent = 0;
    for (let i = 0; i < 5000 && q.length > 0; i++) sent += q.take(2, 1398).length;
    expect(q.length).toBe(0);
    expect(sent).toBe(2000 * 16);
  });
});
