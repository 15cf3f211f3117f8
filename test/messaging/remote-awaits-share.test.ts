// Review finding: the ledger of what local agents await from agents on other nodes was bounded only in all
// (messages.remote_awaits_max): one agent sending requests to a remote agent that never answers pushed every
// other agent's entries out, and those agents then waited in silence when that node died (no NODE_FAILED). One
// sender now holds at most a tenth of the entries; past it its own new messages are not recorded.
import { describe, expect, it } from 'vitest';
import type { AclMessage } from '../../src/messaging/message.ts';
import { RemoteAwaits } from '../../src/messaging/remote-awaits.ts';

let n = 0;
const request = (sender: string): AclMessage => ({
  performative: 'request',
  sender,
  receiver: 'far',
  conversation_id: `c${++n}`,
  message_id: `m${n}`,
});

describe('RemoteAwaits per sender', () => {
  it("a flooding sender keeps its share; another sender's entry is answered when the node dies", () => {
    const awaits = new RemoteAwaits({ maxEntries: 100, ttlMs: 60_000 });
    const honest = request('honest');
    awaits.record(honest, 'far', 'n2');
    const flood = Array.from({ length: 150 }, () => request('flooder'));
    for (const message of flood) awaits.record(message, 'far', 'n2');
    expect(awaits.size).toBe(11);
    expect(awaits.stats.evicted).toBe(140);
    const taken = awaits.takeNode('n2');
    expect(taken.map((e) => e.message.sender).filter((s) => s === 'honest')).toHaveLength(1);
    expect(taken).toHaveLength(11);
  });

  it('an answered entry frees its place in the share', () => {
    const awaits = new RemoteAwaits({ maxEntries: 100, ttlMs: 60_000, maxPerSender: 2 });
    const [a, b, c] = [request('s'), request('s'), request('s')];
    for (const message of [a, b, c]) awaits.record(message, 'far', 'n2');
    expect(awaits.size).toBe(2);
    awaits.settle({ performative: 'inform', sender: 'far', receiver: 's', conversation_id: a.conversation_id, message_id: 'r1', in_reply_to: a.message_id }, 's');
    expect(awaits.undelivered(b, 'far')).toBe(false);
    awaits.record(c, 'far', 'n2');
    awaits.record(request('s'), 'far', 'n2');
    expect(awaits.size).toBe(2);
  });
});
