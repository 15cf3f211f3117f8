// Review finding: evicting a conversation to make room dropped its pending TIMEOUT in silence (a sender at
// 50k/s clears the 100k tracker in ~2 s). Now the initiator gets a failure at once for each participant that
// still owed an answer, and nothing more later. On the tracker's fake clock.
import { describe, expect, it } from 'vitest';
import type { AclMessage } from '../../../src/messaging/message.ts';
import { msg, request, tracker } from './tracker-fixture.ts';

const codeOf = (m: AclMessage): string => (m.content as { error: { code: string } }).error.code;

describe('ConversationTracker: eviction of a conversation that still awaits answers', () => {
  it('answers the initiator at once with a failure from the silent participant, and no TIMEOUT later', () => {
    const { t, clock, events, sent } = tracker({ maxConversations: 2 });
    const victim = request('victim', { reply_by: new Date(clock.now + 1500).toISOString(), reply_with: 'r1' });
    t.check(victim, ['b']);
    t.check(request('c2'), ['b']);
    expect(sent).toEqual([]);
    t.check(request('c3'), ['b']); // the tracker is full: 'victim' is the least recently active
    expect(events.filter((e) => e.change === 'evicted').map((e) => e.conversation_id)).toEqual(['victim']);
    expect(sent).toEqual([
      expect.objectContaining({
        performative: 'failure',
        sender: 'b',
        receiver: 'a',
        conversation_id: 'victim',
        in_reply_to: 'r1',
        protocol: 'fipa-request',
        content: { error: expect.objectContaining({ code: 'QUOTA_EXCEEDED', details: { participant: 'b', reason: 'evicted' } }) },
      }),
    ]);
    clock.advance(5000);
    expect(sent).toHaveLength(1); // its deadline timer went with it
  });

  it('one failure per participant that still owes an answer, none for those that do not', () => {
    const { t, sent } = tracker({ maxConversations: 1 });
    const cfp = msg({ performative: 'cfp', sender: 'a', receiver: ['p', 'q', 'r'], protocol: 'fipa-contract-net', conversation_id: 'net' });
    t.check(cfp, ['p', 'q', 'r']);
    // p proposed (now the initiator owes the decision), q refused (done), r still owes its answer.
    t.check(msg({ performative: 'propose', sender: 'p', receiver: 'a', protocol: 'fipa-contract-net', conversation_id: 'net' }), ['a']);
    t.check(msg({ performative: 'refuse', sender: 'q', receiver: 'a', protocol: 'fipa-contract-net', conversation_id: 'net' }), ['a']);
    t.check(request('next'), ['b']);
    expect(sent.map((m) => [m.sender, codeOf(m)])).toEqual([['r', 'QUOTA_EXCEEDED']]);
  });

  it('an agreed request still owes its result: evicted, the initiator hears of it', () => {
    const { t, sent } = tracker({ maxConversations: 1 });
    t.check(request('agreed'), ['b']);
    t.check(msg({ performative: 'agree', sender: 'b', receiver: 'a', protocol: 'fipa-request', conversation_id: 'agreed' }), ['a']);
    t.check(request('next'), ['b']);
    expect(sent.map(codeOf)).toEqual(['QUOTA_EXCEEDED']);
  });

  it('also when the request came from another node: the node that evicts is the one that would refuse the answer', () => {
    const { t, clock, sent } = tracker({ maxConversations: 1 });
    t.observe(request('remote', { reply_by: new Date(clock.now + 60_000).toISOString() }));
    t.check(request('next'), ['b']);
    expect(sent.map((m) => [m.sender, m.receiver, m.conversation_id, codeOf(m)])).toEqual([['b', 'a', 'remote', 'QUOTA_EXCEEDED']]);
  });

  it('ended conversations send nothing; idle expiry sends its own TIMEOUT, not an eviction failure', () => {
    const { t, clock, sent } = tracker({ maxConversations: 1, idleMs: 60_000 });
    t.check(request('done'), ['b']);
    t.check(msg({ performative: 'inform', sender: 'b', receiver: 'a', protocol: 'fipa-request', conversation_id: 'done' }), ['a']);
    t.check(request('next'), ['b']); // 'done' ended: forgotten first, with no failure
    expect(sent).toEqual([]);
    clock.advance(120_000); // 'next' expires idle (idle-failure.test.ts)
    expect(t.size).toBe(0);
    expect(sent.map((m) => [m.conversation_id, codeOf(m)])).toEqual([['next', 'TIMEOUT']]);
  });
});
