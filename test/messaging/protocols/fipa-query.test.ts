import { describe, expect, it } from 'vitest';
import { errorOf, performatives, setup } from './harness.ts';

const P = 'fipa-query';

describe('fipa-query through the router', () => {
  it('answers query-if and query-ref once each', () => {
    const { send, take, deploy, tracker } = setup();
    deploy('asker');
    deploy('oracle');
    send({ performative: 'query-if', sender: 'asker', receiver: 'oracle', protocol: P });
    send({ performative: 'inform', sender: 'oracle', receiver: 'asker', protocol: P, content: true });
    send({ performative: 'query-ref', sender: 'asker', receiver: 'oracle', protocol: P, conversation_id: 'c2' });
    send({ performative: 'refuse', sender: 'oracle', receiver: 'asker', protocol: P, conversation_id: 'c2' });
    expect(performatives(take('asker'))).toEqual(['inform', 'refuse']);
    expect(tracker.view('c1')!.participants[0].state).toBe('answered');
    expect(tracker.view('c2')!.participants[0].state).toBe('refused');
  });

  it('refuses an agree (messages.md lists the answers exactly) and a second inform', () => {
    const { send, take, deploy } = setup();
    deploy('asker');
    deploy('oracle');
    send({ performative: 'query-ref', sender: 'asker', receiver: 'oracle', protocol: P });
    send({ performative: 'agree', sender: 'oracle', receiver: 'asker', protocol: P });
    send({ performative: 'inform', sender: 'oracle', receiver: 'asker', protocol: P });
    send({ performative: 'inform', sender: 'oracle', receiver: 'asker', protocol: P });
    expect(performatives(take('asker'))).toEqual(['inform']);
    expect(take('oracle').filter((m) => m.performative === 'not-understood').map((m) => errorOf(m)!.code)).toEqual([
      'PROTOCOL_VIOLATION',
      'PROTOCOL_VIOLATION',
    ]);
  });

  it('refuses a message of another protocol in the same conversation', () => {
    const { send, take, deploy } = setup();
    deploy('asker');
    deploy('oracle');
    send({ performative: 'query-ref', sender: 'asker', receiver: 'oracle', protocol: P });
    send({ performative: 'inform', sender: 'oracle', receiver: 'asker', protocol: 'fipa-request' });
    expect(take('asker')).toEqual([]);
    expect(errorOf(take('oracle').at(-1))!.message).toContain('follows fipa-query, not fipa-request');
  });
});
