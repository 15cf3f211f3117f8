// Review finding: conversations were bounded only in all (messages.conversations_max). One client sending
// fipa-requests to a participant that never answers (`client:x<n>`) held all 100,000 places after ~80 s of
// sends and every other sender's conversation was evicted: their initiators got QUOTA_EXCEEDED "evicted" and
// their participants' answers were refused as outside any conversation. One initiator now holds at most a tenth
// of the places (and of the participants bound) in conversations still going on; past it, its opening is refused
// with `failure` QUOTA_EXCEEDED and dead-lettered, and nobody else's conversation is touched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageInput } from '../../src/messaging/message.ts';
import { eventually, startTestNode, type TestNode } from '../conversations/node-harness.ts';
import { msg, tracker } from '../messaging/conversations/tracker-fixture.ts';

let n: TestNode;
beforeAll(async () => {
  n = await startTestNode({ 'messages.conversations_max': 100 });
});
afterAll(() => n?.stop());

const send = (principal: string, input: MessageInput, waitMs?: number) =>
  n.node.sendMessage(input, { principal, ...(waitMs !== undefined ? { waitMs } : {}) });

describe('open conversations per initiator', () => {
  it("a flooding client is refused past its share and evicts nobody's conversation", async () => {
    await send('honest', { performative: 'request', protocol: 'fipa-request', receiver: 'client:slow-peer', conversation_id: 'honest-1' });
    expect(n.node.conversations.view('honest-1')?.state).toBe('requested');
    for (let i = 0; i < 150; i++) await send('flooder', { performative: 'request', protocol: 'fipa-request', receiver: `client:x${i}` });
    expect(n.node.conversations.view('honest-1')?.state).toBe('requested');
    expect(n.node.conversations.size).toBe(11);
    // The flooder hears why, at once, from the receiver it named.
    const { replies } = await send('flooder', { performative: 'request', protocol: 'fipa-request', receiver: 'client:x-last' }, 5000);
    expect(replies).toEqual([
      expect.objectContaining({
        performative: 'failure',
        sender: 'client:x-last',
        receiver: 'client:flooder',
        content: { error: expect.objectContaining({ code: 'QUOTA_EXCEEDED', details: expect.objectContaining({ open_conversations: 10 }) }) },
      }),
    ]);
    n.node.state.deadLetters.flush();
    const refused = await eventually(
      () => n.node.state.deadLetters.list({ limit: 1000 }).filter((d) => d.reason === 'QUOTA_EXCEEDED'),
      (rows) => rows.length >= 141,
    );
    expect(refused.length).toBeGreaterThanOrEqual(141);
  });

  it('counts conversations still going on only: an ended one frees its place', () => {
    const { t } = tracker({ maxConversations: 100, maxPerInitiator: 2 });
    const open = (id: string) => msg({ performative: 'request', sender: 'a', receiver: 'b', protocol: 'fipa-request', conversation_id: id });
    expect(t.check(open('c1'), ['b'])).toBeUndefined();
    expect(t.check(open('c2'), ['b'])).toBeUndefined();
    expect(t.check(open('c3'), ['b'])).toMatchObject({ code: 'QUOTA_EXCEEDED', performative: 'failure' });
    // Another initiator is not concerned.
    expect(t.check(msg({ performative: 'request', sender: 'z', receiver: 'b', protocol: 'fipa-request', conversation_id: 'z1' }), ['b'])).toBeUndefined();
    expect(t.check(msg({ performative: 'inform', sender: 'b', receiver: 'a', protocol: 'fipa-request', conversation_id: 'c1' }), ['a'])).toBeUndefined();
    expect(t.check(open('c3'), ['b'])).toBeUndefined();
  });

  it('bounds participants per initiator too (a cfp to many weighs as many)', () => {
    const { t } = tracker({ maxParticipants: 100, maxParticipantsPerInitiator: 5 });
    const cfp = (id: string, to: string[]) => msg({ performative: 'cfp', sender: 'a', receiver: to, protocol: 'fipa-contract-net', conversation_id: id });
    expect(t.check(cfp('k1', ['p1', 'p2', 'p3']), ['p1', 'p2', 'p3'])).toBeUndefined();
    expect(t.check(cfp('k2', ['p4', 'p5', 'p6']), ['p4', 'p5', 'p6'])).toMatchObject({ code: 'QUOTA_EXCEEDED' });
    expect(t.check(cfp('k3', ['p4', 'p5']), ['p4', 'p5'])).toBeUndefined();
  });

  // Found on the way: the TIMEOUTs that ended the conversation moved it to its grace, and the message then
  // moved it there a second time, taking it out of the activity list it was no longer in: every conversation
  // still going on was lost from that list (never expired nor evicted again) and the ended one counted twice.
  it('a peer message arriving after the deadlines ended its conversation leaves the tracker consistent', () => {
    const { t, clock } = tracker({ maxConversations: 100 });
    expect(t.check(msg({ performative: 'request', sender: 'c', receiver: 'd', protocol: 'fipa-request', conversation_id: 'going-on' }), ['d'])).toBeUndefined();
    // The initiator's node is elsewhere (observe); no timer fires before the participant's answer comes in.
    const opening = msg({ performative: 'request', sender: 'a', receiver: 'b', protocol: 'fipa-request', conversation_id: 'late', reply_by: new Date(clock.now + 1000).toISOString() });
    t.observe(opening, ['b']);
    clock.now += 5000;
    expect(() => t.observe(msg({ performative: 'inform', sender: 'b', receiver: 'a', protocol: 'fipa-request', conversation_id: 'late' }), ['a'])).not.toThrow();
    expect(t.endedSize).toBe(1);
    clock.advance(31 * 60_000);
    expect(t.view('going-on')).toBeUndefined();
    for (let i = 0; i < 150; i++) t.check(msg({ performative: 'request', sender: `s${i}`, receiver: 'b', protocol: 'fipa-request', conversation_id: `n${i}` }), ['b']);
    expect(t.size).toBeLessThanOrEqual(100);
  });
});
