// The ledger of what local agents await from agents on other nodes (src/messaging/remote-awaits.ts): what
// enters it, what ends an entry, what a gone node takes, its bounds, and the mark that keeps a late
// LINK_LOST from answering a message NODE_FAILED answered already.
import { describe, expect, it } from 'vitest';
import type { AclMessage } from '../../src/messaging/message.ts';
import { RemoteAwaits } from '../../src/messaging/remote-awaits.ts';
import { stamped } from './fakes.ts';

function ledger(maxEntries = 100, ttlMs = 60_000) {
  let now = 1_000;
  // One sender (`a`) fills these small ledgers: no share per sender (remote-awaits-share.test.ts has it).
  const awaits = new RemoteAwaits({ maxEntries, maxPerSender: Infinity, ttlMs, now: () => now });
  return { awaits, advance: (ms: number) => (now += ms) };
}

const request = (sender = 'a', receiver = 'b', extra: Partial<AclMessage> = {}) =>
  stamped({ performative: 'request', sender, receiver, ...extra });
const replyTo = (sent: AclMessage, performative: AclMessage['performative'], from = String(sent.receiver)) =>
  stamped({ performative, sender: from, receiver: sent.sender, conversation_id: sent.conversation_id, in_reply_to: sent.reply_with ?? sent.message_id });

describe('RemoteAwaits', () => {
  it('holds only messages that await an answer', () => {
    const { awaits } = ledger();
    awaits.record(stamped({ performative: 'inform', sender: 'a', receiver: 'b' }), 'b', 'n2');
    awaits.record(stamped({ performative: 'agree', sender: 'a', receiver: 'b' }), 'b', 'n2');
    expect(awaits.size).toBe(0);
    for (const performative of ['request', 'query-if', 'query-ref', 'cfp', 'subscribe'] as const) {
      awaits.record(stamped({ performative, sender: 'a', receiver: 'b' }), 'b', 'n2');
    }
    expect(awaits.size).toBe(5);
  });

  it('an answer from the receiver ends the entry; an intermediate reply (agree) does not', () => {
    const { awaits } = ledger();
    const sent = request();
    awaits.record(sent, 'b', 'n2');
    awaits.settle(replyTo(sent, 'agree'), 'a');
    expect(awaits.size).toBe(1);
    awaits.settle(replyTo(sent, 'inform', 'c'), 'a'); // from someone else
    awaits.settle({ ...replyTo(sent, 'inform'), conversation_id: 'other' }, 'a'); // another conversation
    expect(awaits.size).toBe(1);
    awaits.settle(replyTo(sent, 'inform'), 'a');
    expect(awaits.size).toBe(0);
    expect(awaits.takeNode('n2')).toEqual([]);
  });

  it('matches replies by reply_with when the message set one', () => {
    const { awaits } = ledger();
    const sent = request('a', 'b', { reply_with: 'r-1' });
    awaits.record(sent, 'b', 'n2');
    awaits.settle(replyTo(sent, 'failure'), 'a');
    expect(awaits.size).toBe(0);
  });

  it('a gone node takes its entries only, oldest first, and they are not taken twice', () => {
    const { awaits, advance } = ledger();
    const first = request('a', 'b');
    awaits.record(first, 'b', 'n2');
    advance(1);
    awaits.record(request('a', 'c'), 'c', 'n3');
    advance(1);
    const second = request('x', 'b');
    awaits.record(second, 'b', 'n2');
    const taken = awaits.takeNode('n2');
    expect(taken.map((e) => e.message)).toEqual([first, second]);
    expect(taken.every((e) => e.receiver === 'b' && e.node === 'n2')).toBe(true);
    expect(awaits.takeNode('n2')).toEqual([]);
    expect(awaits.size).toBe(1);
    expect(awaits.stats).toMatchObject({ held: 1, failed: 2 });
  });

  it('include narrows what a gone node takes (a member that left handed some agents over)', () => {
    const { awaits } = ledger();
    awaits.record(request('a', 'moved'), 'moved', 'n2');
    awaits.record(request('a', 'stayed'), 'stayed', 'n2');
    const taken = awaits.takeNode('n2', (e) => e.receiver !== 'moved');
    expect(taken.map((e) => e.receiver)).toEqual(['stayed']);
    expect(awaits.size).toBe(1);
  });

  it('LINK_LOST after NODE_FAILED for the same message is suppressed, once; LINK_LOST first ends the entry', () => {
    const { awaits } = ledger();
    const failedFirst = request('a', 'b');
    const lostFirst = request('a', 'b');
    awaits.record(failedFirst, 'b', 'n2');
    awaits.record(lostFirst, 'b', 'n2');
    expect(awaits.undelivered(lostFirst, 'b')).toBe(false);
    expect(awaits.takeNode('n2').map((e) => e.message)).toEqual([failedFirst]);
    expect(awaits.undelivered(failedFirst, 'b')).toBe(true);
    expect(awaits.undelivered(failedFirst, 'b')).toBe(false);
    expect(awaits.stats.suppressed).toBe(1);
  });

  it('follow re-points entries of handed-over receivers, keeps their age order, drops those now here', () => {
    const { awaits, advance } = ledger(100, 10_000);
    const toB = request('a', 'b');
    const toC = request('a', 'c');
    const toD = request('a', 'd');
    const stays = request('a', 'e');
    for (const m of [toB, toC, toD, stays]) {
      awaits.record(m, String(m.receiver), 'n2');
      advance(1_000);
    }
    const now: Record<string, string | undefined> = { b: 'n3', c: 'n1', d: 'n3', e: undefined };
    expect(awaits.follow('n2', (r) => now[r], 'n1')).toBe(2);
    expect(awaits.size).toBe(3);
    expect(awaits.takeNode('n2').map((e) => e.message)).toEqual([stays]);
    advance(6_500); // toB is 10.5 s old: it expires by its first age, not the move
    expect(awaits.takeNode('n3').map((e) => e.message)).toEqual([toD]);
  });

  it('is bounded by count (the oldest go) and by age', () => {
    const { awaits, advance } = ledger(3, 10_000);
    const sent = [1, 2, 3, 4].map(() => request());
    for (const m of sent) {
      awaits.record(m, 'b', 'n2');
      advance(1_000);
    }
    expect(awaits.size).toBe(3);
    expect(awaits.stats.evicted).toBe(1);
    advance(8_500); // the second is now 11.5 s old, the third 10.5 s, the fourth 9.5 s
    expect(awaits.takeNode('n2').map((e) => e.message)).toEqual([sent[3]]);
    expect(awaits.stats.expired).toBe(2);
  });

  it('the failed marks are bounded too', () => {
    const { awaits } = ledger(2);
    const sent = [1, 2, 3].map(() => request());
    for (const m of sent) {
      awaits.record(m, 'b', 'n2');
      awaits.takeNode('n2');
    }
    expect(awaits.undelivered(sent[0], 'b')).toBe(false);
    expect(awaits.undelivered(sent[1], 'b')).toBe(true);
    expect(awaits.undelivered(sent[2], 'b')).toBe(true);
  });
});
