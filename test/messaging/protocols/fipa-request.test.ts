import { describe, expect, it, vi } from 'vitest';
import { errorOf, performatives, setup } from './harness.ts';

const P = 'fipa-request';

function world() {
  const w = setup();
  w.deploy('alice');
  w.deploy('bob');
  w.deploy('carol');
  return w;
}

describe('fipa-request through the router', () => {
  it('delivers request → agree → inform and ends the conversation', () => {
    const { send, take, tracker } = world();
    send({ performative: 'request', sender: 'alice', receiver: 'bob', protocol: P, reply_with: 'r1' });
    expect(performatives(take('bob'))).toEqual(['request']);
    send({ performative: 'agree', sender: 'bob', receiver: 'alice', protocol: P, in_reply_to: 'r1' });
    send({ performative: 'inform', sender: 'bob', receiver: 'alice', protocol: P, in_reply_to: 'r1' });
    expect(performatives(take('alice'))).toEqual(['agree', 'inform']);
    expect(tracker.view('c1')).toMatchObject({ protocol: P, initiator: 'alice', state: 'ended', participants: [{ name: 'bob', state: 'done' }] });
  });

  it('allows the result directly, without an agree', () => {
    const { send, take } = world();
    send({ performative: 'request', sender: 'alice', receiver: 'bob', protocol: P });
    send({ performative: 'failure', sender: 'bob', receiver: 'alice', protocol: P });
    expect(performatives(take('alice'))).toEqual(['failure']);
  });

  it('refuses an inform without a request: not delivered, not-understood PROTOCOL_VIOLATION, dead-lettered', () => {
    const { send, take, deadLetters, events } = world();
    const inform = send({ performative: 'inform', sender: 'bob', receiver: 'alice', protocol: P, reply_with: 'x' });
    expect(take('alice')).toEqual([]);
    const [reply] = take('bob');
    expect(reply).toMatchObject({ performative: 'not-understood', sender: 'alice', receiver: 'bob', conversation_id: 'c1', in_reply_to: 'x', protocol: P });
    expect(errorOf(reply)).toMatchObject({ code: 'PROTOCOL_VIOLATION', details: { protocol: P, state: 'none', receiver: 'alice' } });
    expect(errorOf(reply)!.message).toContain('opens with request');
    expect(deadLetters.records).toEqual([{ message: inform, reason: 'PROTOCOL_VIOLATION', receiver: 'alice' }]);
    expect(events.at(-1)).toMatchObject({ change: 'rejected', code: 'PROTOCOL_VIOLATION', state: 'none' });
  });

  it('refuses an agree after an agree, and says what may follow', () => {
    const { send, take } = world();
    send({ performative: 'request', sender: 'alice', receiver: 'bob', protocol: P });
    send({ performative: 'agree', sender: 'bob', receiver: 'alice', protocol: P });
    send({ performative: 'agree', sender: 'bob', receiver: 'alice', protocol: P });
    expect(performatives(take('alice'))).toEqual(['agree']);
    const refusal = take('bob').find((m) => m.performative === 'not-understood');
    expect(errorOf(refusal)).toMatchObject({ code: 'PROTOCOL_VIOLATION', details: { state: 'agreed' } });
    expect(errorOf(refusal)!.message).toContain('may send: inform, failure');
  });

  it('refuses an inform after a refuse and any message after the end', () => {
    const { send, take } = world();
    send({ performative: 'request', sender: 'alice', receiver: 'bob', protocol: P });
    send({ performative: 'refuse', sender: 'bob', receiver: 'alice', protocol: P });
    send({ performative: 'inform', sender: 'bob', receiver: 'alice', protocol: P });
    send({ performative: 'request', sender: 'alice', receiver: 'bob', protocol: P });
    expect(performatives(take('alice'))).toEqual(['refuse', 'not-understood']);
    const toBob = take('bob');
    expect(performatives(toBob)).toEqual(['request', 'not-understood']);
    expect(errorOf(toBob[1])!.message).toContain('has ended');
  });

  it('refuses a second request in an open conversation', () => {
    const { send, take } = world();
    send({ performative: 'request', sender: 'alice', receiver: 'bob', protocol: P });
    send({ performative: 'request', sender: 'alice', receiver: 'bob', protocol: P });
    expect(performatives(take('bob'))).toEqual(['request']);
    expect(errorOf(take('alice')[0])!.message).toContain('already open');
  });

  it('refuses a reply from a stranger and a reply not addressed to the initiator', () => {
    const { send, take } = world();
    send({ performative: 'request', sender: 'alice', receiver: 'bob', protocol: P });
    send({ performative: 'inform', sender: 'carol', receiver: 'alice', protocol: P });
    expect(errorOf(take('carol')[0])!.message).toContain('"carol" is not a participant');
    send({ performative: 'inform', sender: 'bob', receiver: ['alice', 'carol'], protocol: P });
    expect(take('carol')).toEqual([]);
    expect(take('alice')).toEqual([]);
    const refusals = take('bob').filter((m) => m.performative === 'not-understood');
    expect(refusals.map((m) => m.sender)).toEqual(['alice', 'carol']); // one per receiver it was meant for
  });

  it('tracks each receiver of a request apart', () => {
    const { send, take, tracker } = world();
    send({ performative: 'request', sender: 'alice', receiver: ['bob', 'carol'], protocol: P });
    send({ performative: 'inform', sender: 'bob', receiver: 'alice', protocol: P });
    expect(tracker.view('c1')!.state).toBe('requested');
    send({ performative: 'agree', sender: 'carol', receiver: 'alice', protocol: P });
    send({ performative: 'inform', sender: 'carol', receiver: 'alice', protocol: P });
    expect(performatives(take('alice'))).toEqual(['inform', 'agree', 'inform']);
    expect(tracker.view('c1')!.state).toBe('ended');
  });

  it('ends the part of a receiver that does not exist with the AGENT_NOT_FOUND failure, so no TIMEOUT follows', () => {
    const { send, take, tracker, clock } = world();
    send({ performative: 'request', sender: 'alice', receiver: 'ghost', protocol: P, reply_by: clock.in(1000) });
    expect(take('alice').map((m) => errorOf(m)!.code)).toEqual(['AGENT_NOT_FOUND']);
    expect(tracker.view('c1')).toMatchObject({ state: 'ended', participants: [{ name: 'ghost', state: 'failed' }] });
    clock.advance(5000);
    expect(take('alice')).toEqual([]);
  });

  it('times out an agreed participant that never sends the result (JADE: reply_by covers the result)', () => {
    const { send, take, clock } = world();
    send({ performative: 'request', sender: 'alice', receiver: 'bob', protocol: P, reply_by: clock.in(1000), reply_with: 'r9' });
    send({ performative: 'agree', sender: 'bob', receiver: 'alice', protocol: P });
    clock.advance(1000);
    const [agree, timeout] = take('alice');
    expect(agree.performative).toBe('agree');
    expect(timeout).toMatchObject({ performative: 'failure', sender: 'bob', in_reply_to: 'r9', protocol: P });
    expect(errorOf(timeout)).toMatchObject({ code: 'TIMEOUT', details: { participant: 'bob' } });
    send({ performative: 'inform', sender: 'bob', receiver: 'alice', protocol: P });
    expect(take('alice')).toEqual([]);
    expect(errorOf(take('bob').at(-1))).toMatchObject({ code: 'DEADLINE_PASSED' });
  });

  it('does not enforce messages without a protocol or with an unknown one, and never asks the tracker about them', () => {
    const { send, take, tracker } = world();
    const check = vi.spyOn(tracker, 'check');
    send({ performative: 'inform', sender: 'bob', receiver: 'alice' });
    send({ performative: 'inform', sender: 'bob', receiver: 'alice', protocol: 'my-own-protocol' });
    expect(performatives(take('alice'))).toEqual(['inform', 'inform']);
    expect(check).not.toHaveBeenCalled();
    expect(tracker.size).toBe(0);
  });

  it('does not answer a violating failure or not-understood (no ping-pong), only dead-letters it', () => {
    const { send, take, deadLetters } = world();
    send({ performative: 'failure', sender: 'bob', receiver: 'alice', protocol: P });
    expect(take('alice')).toEqual([]);
    expect(take('bob')).toEqual([]);
    expect(deadLetters.records.map((r) => r.reason)).toEqual(['PROTOCOL_VIOLATION']);
  });
});
