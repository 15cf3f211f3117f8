// Issue 4: a contract net through the real node, run by an SDK initiator agent and by a client through the API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestNode, type TestNode } from './node-harness.ts';

let t: TestNode;

/** 10 participants: 7 that bid, 2 that never answer, 1 that answers after reply_by. */
const BIDDERS = ['seller-1', 'seller-2', 'seller-3', 'seller-4', 'seller-5', 'seller-6', 'seller-7'];
const SILENT = ['silent-1', 'silent-2'];
const LATE = ['late-1'];
const DEADLINE_MS = 300;

beforeAll(async () => {
  t = await startTestNode();
  await t.deploy('buyer', 'contract-net-initiator');
  for (const name of [...BIDDERS, ...SILENT, ...LATE]) await t.deploy(name, 'contract-net-participant', ['paint']);
});
afterAll(async () => {
  await t?.stop();
});

describe('contract net run by an SDK initiator agent, 1 initiator and 10 participants', () => {
  let report: any;
  let conversationId: string;

  beforeAll(async () => {
    const { status, body } = await t.api('/api/v1/messages?wait_ms=5000', {
      json: {
        performative: 'request',
        receiver: 'buyer',
        protocol: 'fipa-request',
        content: { task: 'paint the fence', capability: 'paint', deadline_ms: DEADLINE_MS },
      },
    });
    expect(status).toBe(200);
    expect(body.replies).toHaveLength(1);
    report = body.replies[0];
    conversationId = report.content.conversation_id;
  });

  it('gathers the proposals until reply_by, accepts the lowest price and reports the winner\'s inform', () => {
    expect(report.performative).toBe('inform');
    const { proposals, winner, price, result } = report.content;
    expect(proposals.map((p: { bidder: string }) => p.bidder).sort()).toEqual(BIDDERS);
    const lowest = Math.min(...proposals.map((p: { price: number }) => p.price));
    expect(price).toBe(lowest);
    expect(proposals.find((p: { bidder: string }) => p.bidder === winner).price).toBe(lowest);
    expect(result).toEqual({ done: true });
  });

  it('names every participant that did not answer by reply_by, from the router\'s TIMEOUT failures', () => {
    expect(report.content.timeouts.sort()).toEqual([...LATE, ...SILENT].sort());
  });

  it('shows the whole sequence and the protocol state in GET /conversations/{id}', async () => {
    const view = await eventually(
      async () => (await t.api(`/api/v1/conversations/${conversationId}`)).body,
      (body) => body.messages?.some((m: { performative: string }) => m.performative === 'inform'),
    );
    expect(view).toMatchObject({ conversation_id: conversationId, protocol: 'fipa-contract-net', state: 'ended' });
    const count = (p: string) => view.messages.filter((m: { performative: string }) => m.performative === p).length;
    expect(count('cfp')).toBe(1);
    expect(count('propose')).toBe(BIDDERS.length);
    expect(count('accept-proposal')).toBe(1);
    expect(count('reject-proposal')).toBe(1); // one message to the six others
    const rejected = view.messages.find((m: { performative: string }) => m.performative === 'reject-proposal');
    expect([...rejected.receiver].sort()).toEqual(BIDDERS.filter((b) => b !== report.content.winner).sort());
    const timeouts = view.messages.filter((m: any) => m.content?.error?.code === 'TIMEOUT');
    expect(timeouts.map((m: { sender: string }) => m.sender).sort()).toEqual([...LATE, ...SILENT].sort());
    const states = Object.fromEntries(view.participants.map((p: { name: string; state: string }) => [p.name, p.state]));
    expect(states[report.content.winner]).toBe('done');
    expect(states['silent-1']).toBe('timed-out');
    expect(states['late-1']).toBe('timed-out');
  });

  it('refuses the late proposal: DEADLINE_PASSED back to the late participant, in the dead letters and the conversation', async () => {
    const late = await eventually(
      async () => (await t.api('/api/v1/dead-letters')).body.dead_letters,
      (letters: any[]) => letters.some((d) => d.reason === 'DEADLINE_PASSED' && d.message.conversation_id === conversationId),
    );
    const letter = late.find((d: any) => d.reason === 'DEADLINE_PASSED' && d.message.conversation_id === conversationId);
    expect(letter.message).toMatchObject({ performative: 'propose', sender: 'late-1', receiver: 'buyer' });
    const view = await eventually(
      async () => (await t.api(`/api/v1/conversations/${conversationId}`)).body,
      (body) => body.messages.some((m: any) => m.content?.error?.code === 'DEADLINE_PASSED'),
    );
    const refusal = view.messages.find((m: any) => m.content?.error?.code === 'DEADLINE_PASSED');
    expect(refusal).toMatchObject({ performative: 'failure', receiver: 'late-1', sender: 'buyer' });
  });
});

describe('the same contract net run by a client through the API alone', () => {
  it('cfp with wait_ms and reply_by returns every answer; accept/reject in the same conversation → the winner\'s inform', async () => {
    const replyBy = new Date(Date.now() + DEADLINE_MS).toISOString();
    const cfp = await t.api('/api/v1/messages?wait_ms=3000', {
      json: {
        performative: 'cfp',
        receiver: 'capability:paint',
        protocol: 'fipa-contract-net',
        reply_by: replyBy,
        content: { task: 'paint the shed' },
      },
    });
    expect(cfp.status).toBe(200);
    const { conversation_id: conversationId, replies } = cfp.body;
    const proposals = replies.filter((r: { performative: string }) => r.performative === 'propose');
    expect(proposals.map((r: { sender: string }) => r.sender).sort()).toEqual(BIDDERS);
    // The silent and the late participants are answered for by the router, once reply_by passed.
    const timeouts = replies.filter((r: any) => r.content?.error?.code === 'TIMEOUT');
    expect(timeouts.map((r: { sender: string }) => r.sender).sort()).toEqual([...LATE, ...SILENT].sort());
    expect(replies).toHaveLength(10);

    proposals.sort((a: any, b: any) => a.content.price - b.content.price);
    const [best, ...rest] = proposals;
    const reject = await t.api('/api/v1/messages', {
      json: {
        performative: 'reject-proposal',
        receiver: rest.map((r: { sender: string }) => r.sender),
        protocol: 'fipa-contract-net',
        conversation_id: conversationId,
      },
    });
    expect(reject.status).toBe(202);
    const accept = await t.api('/api/v1/messages?wait_ms=3000', {
      json: {
        performative: 'accept-proposal',
        receiver: best.sender,
        protocol: 'fipa-contract-net',
        conversation_id: conversationId,
        content: { price: best.content.price },
      },
    });
    expect(accept.status).toBe(200);
    expect(accept.body.replies).toEqual([
      expect.objectContaining({ performative: 'inform', sender: best.sender, content: { done: true }, conversation_id: conversationId }),
    ]);
    const view = (await t.api(`/api/v1/conversations/${conversationId}`)).body;
    expect(view).toMatchObject({ protocol: 'fipa-contract-net', state: 'ended' });
  });
});
