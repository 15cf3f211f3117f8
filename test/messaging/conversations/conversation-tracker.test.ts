// The tracker alone (no router): memory bound, idle expiry, what peers' messages do, the view.
import { describe, expect, it } from 'vitest';
import { inform, msg, request, tracker } from './tracker-fixture.ts';

const MINUTE = 60_000;

describe('ConversationTracker', () => {
  it('forgets the least recently active conversation beyond maxConversations', () => {
    const { t, events } = tracker({ maxConversations: 3 });
    for (const id of ['c1', 'c2', 'c3']) expect(t.check(request(id), ['b'])).toBeUndefined();
    expect(t.check(msg({ performative: 'agree', sender: 'b', receiver: 'a', protocol: 'fipa-request', conversation_id: 'c1' }), ['a'])).toBeUndefined();
    t.check(request('c4'), ['b']); // c2 is now the oldest idle one
    expect(t.size).toBe(3);
    expect(t.view('c2')).toBeUndefined();
    expect(t.view('c1')!.state).toBe('agreed');
    expect(events.filter((e) => e.change === 'evicted').map((e) => e.conversation_id)).toEqual(['c2']);
    // A reply in a forgotten conversation is outside any conversation.
    expect(t.check(inform('c2'), ['a'])).toMatchObject({ code: 'PROTOCOL_VIOLATION' });
  });

  it('also bounds participants across conversations: a large cfp evicts several small ones', () => {
    const { t } = tracker({ maxParticipants: 4 });
    for (const id of ['c1', 'c2', 'c3']) t.check(request(id), ['b']);
    const cfp = msg({ performative: 'cfp', sender: 'a', receiver: ['p', 'q'], protocol: 'fipa-contract-net', conversation_id: 'big' });
    t.check(cfp, ['p', 'q']);
    expect(t.view('c1')).toBeUndefined(); // 3 + 2 > 4: the oldest one goes
    expect(t.view('c2')).toBeDefined();
    expect(t.size).toBe(3);
    const huge = msg({ performative: 'cfp', sender: 'a', receiver: ['1', '2', '3', '4', '5'], protocol: 'fipa-contract-net', conversation_id: 'huge' });
    expect(t.check(huge, ['1', '2', '3', '4', '5'])).toBeUndefined(); // larger than the bound: tracked alone
    expect(t.size).toBe(1);
  });

  it('expires conversations idle for idleMs (default 30 min); activity keeps one alive', () => {
    const { t, clock, events } = tracker();
    t.check(request('quiet'), ['b']);
    t.check(request('busy'), ['b']);
    clock.advance(20 * MINUTE);
    t.check(msg({ performative: 'agree', sender: 'b', receiver: 'a', protocol: 'fipa-request', conversation_id: 'busy' }), ['a']);
    clock.advance(11 * MINUTE);
    expect(t.view('quiet')).toBeUndefined();
    expect(t.view('busy')).toBeDefined();
    clock.advance(20 * MINUTE);
    expect(t.size).toBe(0);
    expect(events.filter((e) => e.change === 'expired').map((e) => e.conversation_id)).toEqual(['quiet', 'busy']);
    expect(clock.timers.size).toBe(0); // nothing left to sweep: no timer keeps running
  });

  it('keeps an idle conversation whose deadline is still ahead, and times it out then', () => {
    const { t, clock, sent } = tracker({ idleMs: MINUTE });
    t.check(request('slow', { reply_by: new Date(clock.now + 10 * MINUTE).toISOString() }), ['b']);
    clock.advance(5 * MINUTE);
    expect(t.view('slow')).toBeDefined();
    clock.advance(5 * MINUTE);
    expect(sent.map((m) => (m.content as { error: { code: string } }).error.code)).toEqual(['TIMEOUT']);
  });

  it('re-arms deadlines beyond the longest timer instead of firing early', () => {
    const { t, clock, sent } = tracker({ idleMs: 100 * 24 * 60 * MINUTE });
    const fortyDays = 40 * 24 * 60 * MINUTE;
    t.check(request('far', { reply_by: new Date(clock.now + fortyDays).toISOString() }), ['b']);
    clock.advance(fortyDays - 1);
    expect(sent).toEqual([]);
    clock.advance(1);
    expect(sent).toHaveLength(1);
  });

  it('applies messages from peers leniently and leaves their TIMEOUTs to the initiator node', () => {
    const { t, clock, sent } = tracker();
    // The request came from another node: observed, not judged; this node holds its local participant to it.
    t.observe(request('remote', { reply_by: new Date(clock.now + 1000).toISOString() }));
    expect(t.view('remote')!.state).toBe('requested');
    t.observe(inform('nowhere')); // outside any conversation: ignored, nothing opened
    expect(t.view('nowhere')).toBeUndefined();
    clock.advance(2000);
    expect(sent).toEqual([]);
    expect(t.check(inform('remote'), ['a'])).toMatchObject({ code: 'DEADLINE_PASSED', performative: 'failure' });
  });

  it('shows protocol, state, initiator and each participant with its deadline', () => {
    const { t, clock } = tracker();
    const replyBy = new Date(clock.now + 5000).toISOString();
    t.check(msg({ performative: 'cfp', sender: 'client:ops', receiver: ['x', 'y'], protocol: 'fipa-contract-net', conversation_id: 'cn', reply_by: replyBy }), ['x', 'y']);
    t.check(msg({ performative: 'propose', sender: 'x', receiver: 'client:ops', protocol: 'fipa-contract-net', conversation_id: 'cn' }), ['client:ops']);
    expect(t.view('cn')).toEqual({
      conversation_id: 'cn',
      protocol: 'fipa-contract-net',
      initiator: 'client:ops',
      state: 'collecting-proposals',
      participants: [
        { name: 'x', state: 'proposed' },
        { name: 'y', state: 'called', reply_by: replyBy },
      ],
      created_at: new Date(clock.now).toISOString(),
      last_activity_at: new Date(clock.now).toISOString(),
    });
  });

  it('does not track a message to oneself, and close() drops everything with its timers', () => {
    const { t, clock } = tracker();
    expect(t.check(msg({ performative: 'request', sender: 'a', receiver: 'a', protocol: 'fipa-request', conversation_id: 'self' }), ['a'])).toBeUndefined();
    expect(t.size).toBe(0);
    t.check(request('c1', { reply_by: new Date(clock.now + 1000).toISOString() }), ['b']);
    expect(clock.timers.size).toBe(2); // deadline + sweep
    t.close();
    expect(t.size).toBe(0);
    expect(clock.timers.size).toBe(0);
  });

  it('emits opened, advanced, ended with the conversation state', () => {
    const { t, events } = tracker();
    t.check(request('c1'), ['b']);
    t.check(msg({ performative: 'agree', sender: 'b', receiver: 'a', protocol: 'fipa-request', conversation_id: 'c1' }), ['a']);
    t.check(inform('c1'), ['a']);
    expect(events.map((e) => [e.change, e.state, e.message?.performative])).toEqual([
      ['opened', 'requested', 'request'],
      ['advanced', 'agreed', 'agree'],
      ['ended', 'ended', 'inform'],
    ]);
  });
});
