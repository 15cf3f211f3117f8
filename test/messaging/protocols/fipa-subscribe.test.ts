import { describe, expect, it } from 'vitest';
import { errorOf, performatives, setup } from './harness.ts';

const P = 'fipa-subscribe';

function world() {
  const w = setup();
  w.deploy('watcher');
  w.deploy('feed');
  return w;
}

describe('fipa-subscribe through the router', () => {
  it('delivers any number of informs after agree until cancel, then refuses informs', () => {
    const { send, take, tracker, clock } = world();
    send({ performative: 'subscribe', sender: 'watcher', receiver: 'feed', protocol: P, reply_by: clock.in(1000) });
    send({ performative: 'agree', sender: 'feed', receiver: 'watcher', protocol: P });
    for (let i = 0; i < 5; i++) {
      clock.advance(1000); // reply_by bounds the agree only: informs keep flowing past it
      send({ performative: 'inform', sender: 'feed', receiver: 'watcher', protocol: P, content: { tick: i } });
    }
    expect(performatives(take('watcher'))).toEqual(['agree', 'inform', 'inform', 'inform', 'inform', 'inform']);
    expect(tracker.view('c1')!.state).toBe('subscribed');
    send({ performative: 'cancel', sender: 'watcher', receiver: 'feed', protocol: P });
    expect(performatives(take('feed'))).toEqual(['subscribe', 'cancel']);
    expect(tracker.view('c1')).toMatchObject({ state: 'ended', participants: [{ name: 'feed', state: 'cancelled' }] });
    send({ performative: 'inform', sender: 'feed', receiver: 'watcher', protocol: P });
    send({ performative: 'inform', sender: 'feed', receiver: 'watcher', protocol: P });
    expect(take('watcher')).toEqual([]);
    expect(take('feed').map((m) => errorOf(m)!.code)).toEqual(['PROTOCOL_VIOLATION', 'PROTOCOL_VIOLATION']);
  });

  it('refuses an inform before the agree, and a cancel from the participant', () => {
    const { send, take } = world();
    send({ performative: 'subscribe', sender: 'watcher', receiver: 'feed', protocol: P });
    send({ performative: 'inform', sender: 'feed', receiver: 'watcher', protocol: P });
    send({ performative: 'cancel', sender: 'feed', receiver: 'watcher', protocol: P });
    expect(take('watcher')).toEqual([]);
    const refusals = take('feed').filter((m) => m.performative === 'not-understood');
    expect(refusals).toHaveLength(2);
    expect(errorOf(refusals[0])!.message).toContain('may send: agree, refuse, not-understood, failure');
  });

  it('ends on refuse and on a failure after agree', () => {
    const { send, take, tracker } = world();
    send({ performative: 'subscribe', sender: 'watcher', receiver: 'feed', protocol: P });
    send({ performative: 'refuse', sender: 'feed', receiver: 'watcher', protocol: P });
    expect(tracker.view('c1')!.state).toBe('ended');
    send({ performative: 'subscribe', sender: 'watcher', receiver: 'feed', protocol: P, conversation_id: 'c2' });
    send({ performative: 'agree', sender: 'feed', receiver: 'watcher', protocol: P, conversation_id: 'c2' });
    send({ performative: 'failure', sender: 'feed', receiver: 'watcher', protocol: P, conversation_id: 'c2' });
    expect(tracker.view('c2')).toMatchObject({ state: 'ended', participants: [{ state: 'failed' }] });
    expect(performatives(take('watcher'))).toEqual(['refuse', 'agree', 'failure']);
  });

  it('times out a subscription never agreed to', () => {
    const { send, take, clock } = world();
    send({ performative: 'subscribe', sender: 'watcher', receiver: 'feed', protocol: P, reply_by: clock.in(100) });
    clock.advance(100);
    expect(take('watcher').map((m) => [m.sender, errorOf(m)!.code])).toEqual([['feed', 'TIMEOUT']]);
  });
});
