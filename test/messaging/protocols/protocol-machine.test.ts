// The machines alone, without the tracker: pure (state, performative, role) → next state | reason.
import { describe, expect, it } from 'vitest';
import { KNOWN_PROTOCOLS } from '../../../src/messaging/protocols/known-protocols.ts';
import { fipaContractNet } from '../../../src/messaging/protocols/fipa-contract-net.ts';
import { fipaRequest } from '../../../src/messaging/protocols/fipa-request.ts';
import { fipaSubscribe } from '../../../src/messaging/protocols/fipa-subscribe.ts';
import { TIMED_OUT } from '../../../src/messaging/protocols/protocol-machine.ts';

const none = { openingPending: 0 };

describe('protocol machines', () => {
  it('knows the four FIPA protocols of messages.md', () => {
    expect([...KNOWN_PROTOCOLS.keys()]).toEqual(['fipa-request', 'fipa-query', 'fipa-contract-net', 'fipa-subscribe']);
  });

  it('fipa-request: request → agree → inform; inform directly; nothing after the end', () => {
    expect(fipaRequest.openingState('request')).toBe('requested');
    expect(fipaRequest.openingState('inform')).toBeUndefined();
    expect(fipaRequest.step('requested', 'agree', 'participant', none)).toEqual({ ok: true, next: 'agreed' });
    expect(fipaRequest.step('agreed', 'inform', 'participant', none)).toEqual({ ok: true, next: 'done' });
    expect(fipaRequest.step('requested', 'inform', 'participant', none)).toEqual({ ok: true, next: 'done' });
    expect(fipaRequest.step('agreed', 'agree', 'participant', none).ok).toBe(false);
    expect(fipaRequest.step('agreed', 'refuse', 'participant', none).ok).toBe(false);
    expect(fipaRequest.step('requested', 'agree', 'initiator', none).ok).toBe(false);
    for (const final of ['done', 'failed', 'refused', 'not-understood', TIMED_OUT]) expect(fipaRequest.isFinal(final)).toBe(true);
    expect(fipaRequest.isFinal('agreed')).toBe(false);
    expect(fipaRequest.awaitsAnswer('agreed')).toBe(true);
  });

  it('steps allocate nothing on success (the same frozen step each time)', () => {
    expect(fipaRequest.step('requested', 'agree', 'participant', none)).toBe(fipaRequest.step('requested', 'agree', 'participant', none));
  });

  it('fipa-contract-net: accept only a proposal, only once every proposal is in', () => {
    expect(fipaContractNet.step('proposed', 'accept-proposal', 'initiator', none)).toEqual({ ok: true, next: 'accepted' });
    const early = fipaContractNet.step('proposed', 'accept-proposal', 'initiator', { openingPending: 2 });
    expect(early).toMatchObject({ ok: false });
    expect(!early.ok && early.reason).toContain('2 participant(s)');
    expect(fipaContractNet.step('refused', 'accept-proposal', 'initiator', none).ok).toBe(false);
    expect(fipaContractNet.step('called', 'accept-proposal', 'initiator', none).ok).toBe(false);
    expect(fipaContractNet.step('proposed', 'propose', 'participant', none).ok).toBe(false);
    expect(fipaContractNet.step('rejected', 'inform', 'participant', none).ok).toBe(false);
    expect(fipaContractNet.summarize(['proposed', 'called'])).toBe('collecting-proposals');
    expect(fipaContractNet.summarize(['proposed', 'refused'])).toBe('deciding');
    expect(fipaContractNet.summarize(['accepted', 'rejected'])).toBe('awaiting-results');
    expect(fipaContractNet.summarize(['done', 'rejected'])).toBe('ended');
  });

  it('fipa-subscribe: informs repeat, cancel is final', () => {
    expect(fipaSubscribe.step('subscribed', 'inform', 'participant', none)).toEqual({ ok: true, next: 'subscribed' });
    expect(fipaSubscribe.step('subscribed', 'cancel', 'initiator', none)).toEqual({ ok: true, next: 'cancelled' });
    expect(fipaSubscribe.isFinal('cancelled')).toBe(true);
    expect(fipaSubscribe.awaitsAnswer('subscribed')).toBe(false);
    const reason = fipaSubscribe.step('cancelled', 'inform', 'participant', none);
    expect(!reason.ok && reason.reason).toContain('has ended');
  });
});
