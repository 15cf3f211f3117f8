// Review finding: a conversation without reply_by, idle for messages.conversation_idle_ms, was forgotten without
// a word to its initiator, though a participant still owed an answer (which, coming later, is refused as outside
// any conversation). Now the initiator's node sends one TIMEOUT (details.reason "idle") per answer still owed.
import { describe, expect, it } from 'vitest';
import type { AclMessage } from '../../../src/messaging/message.ts';
import { msg, request, tracker } from './tracker-fixture.ts';

const MINUTE = 60_000;
const errorOf = (m: AclMessage) => (m.content as { error: { code: string; details: unknown } }).error;

describe('ConversationTracker: an idle conversation that still awaits answers', () => {
  it('answers the initiator with a TIMEOUT from the silent participant when forgotten', () => {
    const { t, clock, events, sent } = tracker({ idleMs: MINUTE });
    t.check(request('quiet', { reply_with: 'r1' }), ['b']);
    clock.advance(MINUTE - 1);
    expect(sent).toEqual([]);
    clock.advance(MINUTE);
    expect(events.filter((e) => e.change === 'expired').map((e) => e.conversation_id)).toEqual(['quiet']);
    expect(sent).toEqual([
      expect.objectContaining({ performative: 'failure', sender: 'b', receiver: 'a', conversation_id: 'quiet', in_reply_to: 'r1' }),
    ]);
    expect(errorOf(sent[0]!)).toMatchObject({ code: 'TIMEOUT', details: { participant: 'b', reason: 'idle' } });
  });

  it('says nothing for a conversation whose answers all came', () => {
    const { t, clock, sent } = tracker({ idleMs: MINUTE });
    t.check(request('done-ish'), ['b']);
    t.check(msg({ performative: 'refuse', sender: 'b', receiver: 'a', protocol: 'fipa-request', conversation_id: 'done-ish' }), ['a']);
    clock.advance(10 * MINUTE);
    expect(sent).toEqual([]);
  });

  it('leaves it to the initiator node: a conversation observed from a peer expires in silence here', () => {
    const { t, clock, sent } = tracker({ idleMs: MINUTE });
    t.observe(request('remote'));
    clock.advance(10 * MINUTE);
    expect(t.view('remote')).toBeUndefined();
    expect(sent).toEqual([]);
  });
});
