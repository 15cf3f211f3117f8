// messages.md "Interaction protocols the router knows", through the real node: each way a message can break
// its protocol is refused (not delivered, dead-lettered) and its sender told; and a fipa-subscribe
// subscription delivers informs until it is cancelled.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestNode, type TestNode } from './node-harness.ts';

let t: TestNode;
const CLIENT = 'client:admin';

beforeAll(async () => {
  t = await startTestNode();
  await t.deploy('echo', 'echo');
  await t.deploy('scripted', 'scripted');
  await t.deploy('counter', 'counter');
  await t.deploy('welder-1', 'contract-net-participant', ['weld']);
  await t.deploy('welder-2', 'contract-net-participant', ['weld']);
  await t.deploy('silent-welder', 'contract-net-participant', ['weld-slow']);
  await t.deploy('welder-3', 'contract-net-participant', ['weld-slow']);
});
afterAll(async () => {
  await t?.stop();
});

async function send(message: Record<string, unknown>, waitMs?: number): Promise<{ status: number; body: any }> {
  return t.api(`/api/v1/messages${waitMs === undefined ? '' : `?wait_ms=${waitMs}`}`, { json: message });
}

/** The dead letter of `performative` from `sender` in `conversationId`, once the group commit wrote it. */
async function deadLetter(conversationId: string, sender: string, performative: string): Promise<any> {
  const find = (letters: any[]) =>
    letters.find((d) => d.message.conversation_id === conversationId && d.message.sender === sender && d.message.performative === performative);
  const letters = await eventually(async () => (await t.api('/api/v1/dead-letters?limit=10000')).body.dead_letters, (l) => find(l) !== undefined);
  return find(letters);
}

function expectViolation(reply: any, from: string): void {
  expect(reply).toMatchObject({ performative: 'not-understood', sender: from, receiver: CLIENT });
  expect(reply.content.error.code).toBe('PROTOCOL_VIOLATION');
}

describe('fipa-request', () => {
  it('an inform without a request: not-understood PROTOCOL_VIOLATION back, not delivered', async () => {
    const { body } = await send(
      { performative: 'inform', receiver: 'echo', protocol: 'fipa-request', conversation_id: 'req-orphan', content: {} },
      1000,
    );
    expect(body.replies).toHaveLength(1);
    expectViolation(body.replies[0], 'echo');
    expect(body.replies[0].content.error.message).toContain('outside any fipa-request conversation');
    expect((await deadLetter('req-orphan', CLIENT, 'inform')).reason).toBe('PROTOCOL_VIOLATION');
  });

  it('an agree after an agree: the second is refused, the participant told, the client sees agree then inform', async () => {
    const script = [{ performative: 'agree' }, { performative: 'agree' }, { performative: 'inform', content: { ok: true } }];
    const { body } = await send(
      { performative: 'request', receiver: 'scripted', protocol: 'fipa-request', conversation_id: 'req-agree-twice', content: { send: script } },
      2000,
    );
    expect(body.replies.map((r: { performative: string }) => r.performative)).toEqual(['agree', 'inform']);
    expect((await deadLetter('req-agree-twice', 'scripted', 'agree')).reason).toBe('PROTOCOL_VIOLATION');
    const view = await eventually(
      async () => (await t.api('/api/v1/conversations/req-agree-twice')).body,
      (v) => v.messages?.some((m: { performative: string }) => m.performative === 'not-understood'),
    );
    const told = view.messages.find((m: { performative: string }) => m.performative === 'not-understood');
    expect(told).toMatchObject({ sender: CLIENT, receiver: 'scripted', content: { error: { code: 'PROTOCOL_VIOLATION' } } });
    expect(view).toMatchObject({ protocol: 'fipa-request', state: 'ended' });
  });

  it('a second request in an open conversation is refused', async () => {
    const first = await send({ performative: 'request', receiver: 'scripted', protocol: 'fipa-request', conversation_id: 'req-reopen', content: { send: { performative: 'agree' } } }, 100);
    expect(first.body.replies[0].performative).toBe('agree'); // an agree is not an answer: the wait runs out
    const again = await send({ performative: 'request', receiver: 'scripted', protocol: 'fipa-request', conversation_id: 'req-reopen', content: {} }, 1000);
    expectViolation(again.body.replies[0], 'scripted');
    expect(again.body.replies[0].content.error.message).toContain('already open');
  });
});

describe('fipa-query', () => {
  it('an agree to a query is refused (messages.md lists the answers exactly); the inform gets through', async () => {
    const script = [{ performative: 'agree' }, { performative: 'inform', content: { answer: 42 } }];
    const { body } = await send(
      { performative: 'query-ref', receiver: 'scripted', protocol: 'fipa-query', conversation_id: 'query-agree', content: { send: script } },
      2000,
    );
    expect(body.replies).toEqual([expect.objectContaining({ performative: 'inform', content: { answer: 42 } })]);
    expect((await deadLetter('query-agree', 'scripted', 'agree')).reason).toBe('PROTOCOL_VIOLATION');
  });
});

describe('fipa-contract-net', () => {
  it("a client's accept-proposal to a participant that refused: PROTOCOL_VIOLATION, not delivered", async () => {
    // Prices are fixed by name and task: learn them, then set max_price so that exactly one welder refuses.
    const cfp = (id: string, content: object) =>
      send({ performative: 'cfp', receiver: 'capability:weld', protocol: 'fipa-contract-net', conversation_id: id, content }, 2000);
    const prices = (await cfp('cn-prices', { task: 't' })).body.replies.map((r: any) => r.content.price as number);
    expect(new Set(prices).size).toBe(2);
    const { body } = await cfp('cn-refused', { task: 't', max_price: Math.min(...prices) });
    const refuser = body.replies.find((r: { performative: string }) => r.performative === 'refuse').sender;
    expect(body.replies.map((r: { performative: string }) => r.performative).sort()).toEqual(['propose', 'refuse']);
    const accept = await send(
      { performative: 'accept-proposal', receiver: refuser, protocol: 'fipa-contract-net', conversation_id: 'cn-refused' },
      1000,
    );
    expectViolation(accept.body.replies[0], refuser);
    expect(accept.body.replies[0].content.error.details).toMatchObject({ protocol: 'fipa-contract-net', state: 'refused' });
    expect((await deadLetter('cn-refused', CLIENT, 'accept-proposal')).reason).toBe('PROTOCOL_VIOLATION');
  });

  it('an accept-proposal before every participant answered or reply_by passed is refused', async () => {
    const replyBy = new Date(Date.now() + 60_000).toISOString();
    const cfp = await send(
      { performative: 'cfp', receiver: 'capability:weld-slow', protocol: 'fipa-contract-net', conversation_id: 'cn-early', reply_by: replyBy, content: { task: 't' } },
      300,
    );
    // welder-3 proposed; silent-welder owes an answer until reply_by, a minute away.
    expect(cfp.body.replies).toEqual([expect.objectContaining({ performative: 'propose', sender: 'welder-3' })]);
    const accept = await send(
      { performative: 'accept-proposal', receiver: 'welder-3', protocol: 'fipa-contract-net', conversation_id: 'cn-early' },
      1000,
    );
    expectViolation(accept.body.replies[0], 'welder-3');
    expect(accept.body.replies[0].content.error.message).toContain('before the proposals are in');
    const view = (await t.api('/api/v1/conversations/cn-early')).body;
    expect(view.state).toBe('collecting-proposals');
    expect(view.participants).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'silent-welder', state: 'called', reply_by: replyBy })]),
    );
  });

  it('a second cfp with the same conversation_id is refused', async () => {
    const again = await send(
      { performative: 'cfp', receiver: 'capability:weld', protocol: 'fipa-contract-net', conversation_id: 'cn-refused', content: { task: 't' } },
      1000,
    );
    expect(again.body.replies).toHaveLength(2);
    for (const reply of again.body.replies) expect(reply.content.error.code).toBe('PROTOCOL_VIOLATION');
  });
});

describe('fipa-subscribe', () => {
  it('an inform after cancel is refused and its sender told', async () => {
    const subscribe = await send(
      { performative: 'subscribe', receiver: 'scripted', protocol: 'fipa-subscribe', conversation_id: 'sub-cancelled', content: { send: { performative: 'agree' } } },
      1000,
    );
    expect(subscribe.body.replies[0].performative).toBe('agree');
    expect((await send({ performative: 'cancel', receiver: 'scripted', protocol: 'fipa-subscribe', conversation_id: 'sub-cancelled' })).status).toBe(202);
    // Make the publisher inform anyway, from outside the subscription's conversation.
    const trigger = await send(
      {
        performative: 'request',
        receiver: 'scripted',
        content: { send: { performative: 'inform', receiver: CLIENT, protocol: 'fipa-subscribe', conversation_id: 'sub-cancelled', content: { late: true } } },
      },
      1000,
    );
    expect(trigger.body.replies[0]).toMatchObject({ performative: 'inform', content: { sent: [0] } });
    expect((await deadLetter('sub-cancelled', 'scripted', 'inform')).reason).toBe('PROTOCOL_VIOLATION');
  });

  it('a subscription to the counter delivers an inform per change until the subscriber cancels', async () => {
    const subscribe = { performative: 'subscribe', receiver: 'counter', protocol: 'fipa-subscribe', conversation_id: 'sub-counter' };
    const cancel = { performative: 'cancel', receiver: 'counter', protocol: 'fipa-subscribe', conversation_id: 'sub-counter' };
    const add = (n: number) => send({ performative: 'request', receiver: 'counter', content: { op: 'add', n } }, 1000);
    const asScripted = (message: object) => send({ performative: 'request', receiver: 'scripted', content: { send: message } }, 1000);

    expect((await asScripted(subscribe)).body.replies[0].content).toEqual({ sent: [0] });
    expect((await add(1)).body.replies[0].content).toEqual({ count: 1 });
    expect((await add(2)).body.replies[0].content).toEqual({ count: 3 });
    expect((await asScripted(cancel)).body.replies[0].content).toEqual({ sent: [0] });
    expect((await add(4)).body.replies[0].content).toEqual({ count: 7 });

    const view = await eventually(
      async () => (await t.api('/api/v1/conversations/sub-counter')).body,
      (v) => v.messages?.length >= 5,
    );
    expect(view.messages.map((m: any) => `${m.sender} ${m.performative} ${m.content?.count ?? ''}`.trim())).toEqual([
      'scripted subscribe',
      'counter agree 0',
      'counter inform 1',
      'counter inform 3',
      'scripted cancel',
    ]);
    expect(view).toMatchObject({ protocol: 'fipa-subscribe', state: 'ended' });
  });
});
