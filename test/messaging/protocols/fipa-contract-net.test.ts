import { describe, expect, it } from 'vitest';
import type { AclMessage } from '../../../src/messaging/message.ts';
import { routeAndWait } from '../../../src/messaging/route-and-wait.ts';
import { errorOf, performatives, setup } from './harness.ts';

const P = 'fipa-contract-net';

/** An initiator `boss` and participants p0..p(n-1), all advertising `work`. */
function world(n: number) {
  const w = setup();
  w.deploy('boss');
  w.deploy('outsider');
  const participants = Array.from({ length: n }, (_, i) => `p${i}`);
  for (const p of participants) w.deploy(p, ['work']);
  return { ...w, participants };
}

describe('fipa-contract-net through the router', () => {
  it('completes with 10 participants: proposals and refusals, accept the best two, reject the rest, results back', () => {
    const { send, take, clock, tracker, participants, events } = world(10);
    send({ performative: 'cfp', sender: 'boss', receiver: 'capability:work', protocol: P, reply_by: clock.in(5000), reply_with: 'cfp-1' });
    // Fake agents: each reads its cfp and answers; even ones propose a price, odd ones refuse.
    for (const [i, p] of participants.entries()) {
      const [cfp] = take(p);
      expect(cfp.performative).toBe('cfp');
      if (i % 2 === 0) send({ performative: 'propose', sender: p, receiver: 'boss', protocol: P, in_reply_to: 'cfp-1', content: { price: 100 - i } });
      else send({ performative: 'refuse', sender: p, receiver: 'boss', protocol: P, in_reply_to: 'cfp-1' });
    }
    const answers = take('boss');
    expect(performatives(answers)).toEqual(participants.map((_, i) => (i % 2 === 0 ? 'propose' : 'refuse')));
    expect(tracker.view('c1')!.state).toBe('deciding'); // every participant answered: no need to wait for reply_by
    const proposals = answers.filter((m) => m.performative === 'propose');
    const ranked = [...proposals].sort((a, b) => (a.content as { price: number }).price - (b.content as { price: number }).price);
    const chosen = ranked.slice(0, 2).map((m) => m.sender);
    const others = ranked.slice(2).map((m) => m.sender);
    send({ performative: 'accept-proposal', sender: 'boss', receiver: chosen, protocol: P });
    send({ performative: 'reject-proposal', sender: 'boss', receiver: others, protocol: P });
    expect(tracker.view('c1')!.state).toBe('awaiting-results');
    for (const p of chosen) {
      expect(performatives(take(p))).toEqual(['accept-proposal']);
      send({ performative: 'inform', sender: p, receiver: 'boss', protocol: P, content: { done: true } });
    }
    for (const p of others) expect(performatives(take(p))).toEqual(['reject-proposal']);
    expect(performatives(take('boss'))).toEqual(['inform', 'inform']);
    expect(tracker.view('c1')!.state).toBe('ended');
    expect(events.at(-1)).toMatchObject({ change: 'ended', state: 'ended' });
    clock.advance(10_000);
    expect(take('boss')).toEqual([]); // nobody owed anything at reply_by: no TIMEOUT
  });

  it('sends the initiator one TIMEOUT per silent participant, from that participant, answering the cfp', () => {
    const { send, take, clock, tracker } = world(3);
    send({ performative: 'cfp', sender: 'boss', receiver: ['p0', 'p1', 'p2'], protocol: P, reply_by: clock.in(2000), reply_with: 'cfp-7' });
    send({ performative: 'propose', sender: 'p0', receiver: 'boss', protocol: P });
    clock.advance(1999);
    expect(performatives(take('boss'))).toEqual(['propose']);
    clock.advance(1);
    const timeouts = take('boss');
    expect(timeouts.map((m) => [m.performative, m.sender, m.in_reply_to, errorOf(m)!.code, errorOf(m)!.details])).toEqual([
      ['failure', 'p1', 'cfp-7', 'TIMEOUT', { participant: 'p1' }],
      ['failure', 'p2', 'cfp-7', 'TIMEOUT', { participant: 'p2' }],
    ]);
    expect(tracker.view('c1')!.participants.map((p) => p.state)).toEqual(['proposed', 'timed-out', 'timed-out']);
    expect(tracker.view('c1')!.state).toBe('deciding');
  });

  it('refuses a late propose with DEADLINE_PASSED; the initiator got the TIMEOUT first even if the timer is late', () => {
    const { send, take, clock, tracker, deadLetters } = world(2);
    send({ performative: 'cfp', sender: 'boss', receiver: ['p0', 'p1'], protocol: P, reply_by: clock.in(1000) });
    clock.timers.clear(); // the deadline timer has not fired yet (a busy event loop): judged by the clock anyway
    clock.now += 1500;
    const late = send({ performative: 'propose', sender: 'p0', receiver: 'boss', protocol: P, reply_with: 'late' });
    const toBoss = take('boss');
    expect(toBoss.map((m) => [m.sender, errorOf(m)!.code])).toEqual([
      ['p0', 'TIMEOUT'],
      ['p1', 'TIMEOUT'],
    ]);
    const [refusal] = take('p0').filter((m) => m.performative !== 'cfp');
    expect(refusal).toMatchObject({ performative: 'failure', sender: 'boss', in_reply_to: 'late' });
    expect(errorOf(refusal)).toMatchObject({ code: 'DEADLINE_PASSED' });
    expect(deadLetters.records).toEqual([{ message: late, reason: 'DEADLINE_PASSED', receiver: 'boss' }]);
    expect(tracker.view('c1')!.state).toBe('ended');
  });

  it('refuses a propose from a non-participant and a second propose', () => {
    const { send, take } = world(2);
    send({ performative: 'cfp', sender: 'boss', receiver: ['p0', 'p1'], protocol: P });
    send({ performative: 'propose', sender: 'outsider', receiver: 'boss', protocol: P });
    expect(errorOf(take('outsider')[0])).toMatchObject({ code: 'PROTOCOL_VIOLATION' });
    send({ performative: 'propose', sender: 'p0', receiver: 'boss', protocol: P });
    send({ performative: 'propose', sender: 'p0', receiver: 'boss', protocol: P });
    expect(performatives(take('boss'))).toEqual(['propose']);
    const refusal = take('p0').at(-1)!;
    expect(errorOf(refusal)).toMatchObject({ code: 'PROTOCOL_VIOLATION', details: { state: 'proposed' } });
  });

  it('refuses accept-proposal to one who refused, to one who never proposed, and to a stranger', () => {
    const { send, take, clock } = world(3);
    send({ performative: 'cfp', sender: 'boss', receiver: ['p0', 'p1', 'p2'], protocol: P, reply_by: clock.in(1000) });
    send({ performative: 'propose', sender: 'p0', receiver: 'boss', protocol: P });
    send({ performative: 'refuse', sender: 'p1', receiver: 'boss', protocol: P });
    clock.advance(1000); // p2 never answers
    take('boss');
    for (const p of ['p0', 'p1', 'p2']) take(p);
    for (const target of ['p1', 'p2', 'outsider']) {
      send({ performative: 'accept-proposal', sender: 'boss', receiver: target, protocol: P });
      expect(take(target)).toEqual([]);
      const [refusal] = take('boss');
      expect(refusal).toMatchObject({ performative: 'not-understood', sender: target });
      expect(errorOf(refusal)!.code).toBe('PROTOCOL_VIOLATION');
    }
    // A message with one wrong receiver goes to none of them.
    send({ performative: 'reject-proposal', sender: 'boss', receiver: ['p0', 'p1'], protocol: P });
    expect(take('p0')).toEqual([]);
    send({ performative: 'accept-proposal', sender: 'boss', receiver: 'p0', protocol: P });
    expect(performatives(take('p0'))).toEqual(['accept-proposal']);
  });

  it('refuses accept/reject while proposals are still due', () => {
    const { send, take, clock } = world(2);
    send({ performative: 'cfp', sender: 'boss', receiver: ['p0', 'p1'], protocol: P, reply_by: clock.in(1000) });
    send({ performative: 'propose', sender: 'p0', receiver: 'boss', protocol: P });
    take('boss');
    send({ performative: 'accept-proposal', sender: 'boss', receiver: 'p0', protocol: P });
    expect(errorOf(take('boss')[0])!.message).toContain('before the proposals are in');
    clock.advance(1000);
    take('boss'); // p1's TIMEOUT
    send({ performative: 'accept-proposal', sender: 'boss', receiver: 'p0', protocol: P });
    expect(take('boss')).toEqual([]);
    expect(performatives(take('p0'))).toEqual(['cfp', 'accept-proposal']);
  });

  it('refuses an inform from a rejected participant', () => {
    const { send, take } = world(1);
    send({ performative: 'cfp', sender: 'boss', receiver: 'p0', protocol: P });
    send({ performative: 'propose', sender: 'p0', receiver: 'boss', protocol: P });
    send({ performative: 'reject-proposal', sender: 'boss', receiver: 'p0', protocol: P });
    send({ performative: 'inform', sender: 'p0', receiver: 'boss', protocol: P });
    expect(performatives(take('boss'))).toEqual(['propose']);
    expect(errorOf(take('p0').at(-1))).toMatchObject({ code: 'PROTOCOL_VIOLATION' });
  });

  it('times out an accepted participant against the reply_by of the accept-proposal', () => {
    const { send, take, clock } = world(1);
    send({ performative: 'cfp', sender: 'boss', receiver: 'p0', protocol: P, reply_by: clock.in(1000) });
    send({ performative: 'propose', sender: 'p0', receiver: 'boss', protocol: P });
    clock.advance(2000);
    send({ performative: 'accept-proposal', sender: 'boss', receiver: 'p0', protocol: P, reply_by: clock.in(500), reply_with: 'acc' });
    clock.advance(499);
    expect(performatives(take('boss'))).toEqual(['propose']);
    clock.advance(1);
    const [timeout] = take('boss');
    expect(timeout).toMatchObject({ sender: 'p0', in_reply_to: 'acc' });
    expect(errorOf(timeout)!.code).toBe('TIMEOUT');
  });

  it('works for a client initiator: cfp to capability:x with wait, then accept/reject in the same conversation', async () => {
    const { router, clients, take, send, clock, participants } = world(3);
    const cfp: AclMessage = {
      performative: 'cfp',
      sender: 'client:ops',
      receiver: 'capability:work',
      protocol: P,
      reply_by: clock.in(3000),
      conversation_id: 'job-1',
      message_id: 'cfp-id',
    };
    const waiting = routeAndWait(router, clients, cfp, 10_000);
    send({ performative: 'propose', sender: 'p0', receiver: 'client:ops', protocol: P, conversation_id: 'job-1', in_reply_to: 'cfp-id' });
    send({ performative: 'refuse', sender: 'p1', receiver: 'client:ops', protocol: P, conversation_id: 'job-1', in_reply_to: 'cfp-id' });
    clock.advance(3000); // p2 stays silent: its TIMEOUT ends the client's wait
    const replies = await waiting;
    expect(replies.map((m) => [m.sender, m.performative, errorOf(m)?.code])).toEqual([
      ['p0', 'propose', undefined],
      ['p1', 'refuse', undefined],
      ['p2', 'failure', 'TIMEOUT'],
    ]);
    for (const p of participants) take(p);
    const accept: AclMessage = { performative: 'accept-proposal', sender: 'client:ops', receiver: 'p0', protocol: P, conversation_id: 'job-1', message_id: 'acc-id' };
    const result = routeAndWait(router, clients, accept, 10_000);
    expect(performatives(take('p0'))).toEqual(['accept-proposal']);
    send({ performative: 'inform', sender: 'p0', receiver: 'client:ops', protocol: P, conversation_id: 'job-1', in_reply_to: 'acc-id' });
    expect((await result).map((m) => m.performative)).toEqual(['inform']);
    // A client breaking the protocol hears it from the receiver it addressed.
    const wrong: AclMessage = { performative: 'accept-proposal', sender: 'client:ops', receiver: 'p1', protocol: P, conversation_id: 'job-1', message_id: 'bad' };
    const refused = await routeAndWait(router, clients, wrong, 10_000);
    expect(refused.map((m) => [m.sender, m.performative, errorOf(m)!.code])).toEqual([['p1', 'not-understood', 'PROTOCOL_VIOLATION']]);
  });
});
