// Ended conversations are held for a short grace (late and duplicate messages are refused as "has ended"),
// then forgotten: memory follows the conversations going on, not the rate at which they end.
import { describe, expect, it } from 'vitest';
import { CONVERSATION_DEFAULTS } from '../../../src/messaging/conversations/conversation-defaults.ts';
import type { ConversationTracker } from '../../../src/messaging/conversations/conversation-tracker.ts';
import { inform, request, tracker } from './tracker-fixture.ts';

const GRACE = CONVERSATION_DEFAULTS.endedGraceMs;

/** request → inform: the conversation ends at once. */
function runToEnd(t: ConversationTracker, id: string): void {
  expect(t.check(request(id), ['b'])).toBeUndefined();
  expect(t.check(inform(id), ['a'])).toBeUndefined();
}

describe('ended conversations', () => {
  it('are held for the grace (1 s by default), then forgotten with no timer left behind', () => {
    const { t, clock, events } = tracker();
    runToEnd(t, 'c1');
    expect(t.view('c1')!.state).toBe('ended');
    expect(t.endedSize).toBe(1);
    clock.advance(GRACE - 1);
    expect(t.view('c1')!.state).toBe('ended');
    clock.advance(GRACE); // the sweep runs at most a quarter of the grace late
    expect(t.size).toBe(0);
    expect(t.endedSize).toBe(0);
    clock.advance(CONVERSATION_DEFAULTS.sweepIntervalMs); // the idle sweep finds nothing going on and stops too
    expect(clock.timers.size).toBe(0);
    expect(events.map((e) => e.change)).toEqual(['opened', 'ended']); // forgetting an ended one says nothing more
  });

  it('refuse a late or duplicate reply within the grace as a PROTOCOL_VIOLATION, not a new conversation', () => {
    const { t, clock } = tracker();
    runToEnd(t, 'c1');
    clock.advance(GRACE - 1);
    expect(t.check(inform('c1'), ['a'])).toMatchObject({ code: 'PROTOCOL_VIOLATION', reason: expect.stringContaining('has ended') });
    const duplicate = t.check(request('c1'), ['b']);
    expect(duplicate).toMatchObject({ code: 'PROTOCOL_VIOLATION', reason: expect.stringContaining('already open') });
    // A refused message does not extend the grace.
    clock.advance(1);
    expect(t.view('c1')).toBeUndefined();
    expect(t.check(inform('c1'), ['a'])).toMatchObject({ code: 'PROTOCOL_VIOLATION', reason: expect.stringContaining('not open') });
  });

  it('are judged forgotten from the clock, whether or not the sweep has run yet', () => {
    const { t, clock } = tracker();
    runToEnd(t, 'c1');
    clock.now += GRACE; // time passes, no timer fires
    expect(t.view('c1')).toBeUndefined();
    expect(t.check(request('c1'), ['b'])).toBeUndefined(); // the id is free again: a new conversation
    expect(t.view('c1')!.state).toBe('requested');
  });

  it('refuse a participant that timed out with DEADLINE_PASSED during the grace', () => {
    const { t, clock } = tracker();
    t.check(request('slow', { reply_by: clock.in(100) }), ['b']);
    clock.advance(100); // b times out: every part is final, the conversation has ended
    expect(t.view('slow')!.state).toBe('ended');
    expect(t.endedSize).toBe(1);
    clock.advance(GRACE - 1);
    expect(t.check(inform('slow'), ['a'])).toMatchObject({ code: 'DEADLINE_PASSED' });
    clock.advance(GRACE);
    expect(t.size).toBe(0);
  });

  it('take a configurable grace', () => {
    const { t, clock } = tracker({ endedGraceMs: 60_000 });
    runToEnd(t, 'c1');
    clock.advance(59_999);
    expect(t.view('c1')).toBeDefined();
    clock.advance(1);
    expect(t.view('c1')).toBeUndefined();
  });

  it('are given up before any conversation still going on when the tracker is full, silently', () => {
    const { t, events } = tracker({ maxConversations: 3 });
    t.check(request('open'), ['b']);
    runToEnd(t, 'done-1');
    runToEnd(t, 'done-2');
    t.check(request('new'), ['b']);
    expect(t.view('open')).toBeDefined();
    expect(t.view('done-1')).toBeUndefined();
    expect(t.view('done-2')).toBeDefined();
    expect(events.some((e) => e.change === 'evicted')).toBe(false);
  });

  it('keep memory bounded by rate × grace under a long stream, never reaching maxConversations', () => {
    const { t, clock, events } = tracker({ maxConversations: 100_000 });
    const perMs = 20;
    const ms = 3 * GRACE;
    let most = 0;
    for (let i = 0; i < ms; i++) {
      for (let j = 0; j < perMs; j++) {
        const id = `s-${i}-${j}`;
        if (t.check(request(id), ['b']) !== undefined || t.check(inform(id), ['a']) !== undefined) throw new Error(`${id} refused`);
      }
      most = Math.max(most, t.size);
      clock.advance(1);
    }
    // Held: the last grace of endings plus at most one sweep gap (a quarter of the grace) not yet reclaimed.
    expect(most).toBeGreaterThanOrEqual(perMs * GRACE);
    expect(most).toBeLessThanOrEqual(perMs * (GRACE * 1.25 + 1));
    expect(events.some((e) => e.change === 'evicted')).toBe(false);
    clock.advance(2 * GRACE);
    expect(t.size).toBe(0);
    clock.advance(CONVERSATION_DEFAULTS.sweepIntervalMs);
    expect(clock.timers.size).toBe(0);
  });

  it('are dropped with their sweep on close()', () => {
    const { t, clock } = tracker();
    runToEnd(t, 'c1');
    t.close();
    expect(t.size).toBe(0);
    expect(t.endedSize).toBe(0);
    expect(clock.timers.size).toBe(0);
  });
});
