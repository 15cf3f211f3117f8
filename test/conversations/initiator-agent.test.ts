// The contract-net initiator example's decisions, driven message by message in a minimal host (the node-level
// runs are in contract-net.test.ts): what it sends, when it decides, and how it recovers when the router
// judges its decision before reply_by.
import { describe, expect, it } from 'vitest';
import { MiniHost, type AclMessage } from '../sdk/mini-host.ts';
import { exampleModule } from '../helpers/modules.ts';

const CLIENT = 'client:test';

async function startRound(deadlineMs = 100): Promise<{ host: MiniHost; cfp: AclMessage; timer: number }> {
  const host = await MiniHost.load(exampleModule('contract-net-initiator'), 'buyer');
  const before = Date.now();
  const { replies } = host.exchange({
    performative: 'request', sender: CLIENT, reply_with: 'job-1', conversation_id: 'client-conv',
    content: { task: 'paint', capability: 'paint', deadline_ms: deadlineMs, max_price: 80 },
  });
  expect(replies).toHaveLength(1);
  const cfp = replies[0];
  expect(cfp).toMatchObject({ performative: 'cfp', receiver: 'capability:paint', protocol: 'fipa-contract-net', reply_with: 'cfp', content: { task: 'paint', max_price: 80 } });
  const replyBy = Date.parse(cfp.reply_by as string);
  expect(replyBy).toBeGreaterThanOrEqual(before + deadlineMs);
  expect(replyBy).toBeLessThanOrEqual(Date.now() + deadlineMs);
  expect([...host.timers.values()]).toEqual([deadlineMs + 2]);
  return { host, cfp, timer: [...host.timers.keys()][0] };
}

function answer(cfp: AclMessage, sender: string, performative: string, content: AclMessage): AclMessage {
  return { performative, sender, content, conversation_id: cfp.conversation_id, protocol: 'fipa-contract-net', in_reply_to: 'cfp' };
}

const timeout = (cfp: AclMessage, who: string) =>
  answer(cfp, who, 'failure', { error: { code: 'TIMEOUT', message: 'late', details: { participant: who } } });

describe('contract-net initiator agent', () => {
  it('accepts the lowest price when its timer fires, rejects the rest, and reports the inform with the timeouts', async () => {
    const { host, cfp, timer } = await startRound();
    host.deliver(answer(cfp, 'a', 'propose', { price: 50 }));
    host.deliver(answer(cfp, 'b', 'propose', { price: 30 }));
    host.deliver(answer(cfp, 'c', 'propose', { price: 40 }));
    host.deliver(answer(cfp, 'd', 'refuse', { reason: 'busy' }));
    const before = host.sent.length;
    host.fireTimer(timer);
    const [accept, reject] = host.sent.slice(before);
    expect(accept).toMatchObject({ performative: 'accept-proposal', receiver: 'b', conversation_id: cfp.conversation_id, reply_with: 'accept' });
    expect(accept.reply_by).toBeDefined();
    expect(reject).toMatchObject({ performative: 'reject-proposal', receiver: ['a', 'c'], reply_with: 'reject' });
    host.deliver(timeout(cfp, 'e'));
    const { replies } = host.exchange({ ...answer(cfp, 'b', 'inform', { done: true }), in_reply_to: 'accept' });
    expect(replies).toEqual([
      expect.objectContaining({
        performative: 'inform', receiver: CLIENT, conversation_id: 'client-conv', in_reply_to: 'job-1',
        content: {
          conversation_id: cfp.conversation_id, winner: 'b', price: 30, result: { done: true },
          proposals: [{ bidder: 'a', price: 50 }, { bidder: 'b', price: 30 }, { bidder: 'c', price: 40 }],
          refusals: ['d'], timeouts: ['e'], failures: [],
        },
      }),
    ]);
  });

  it('decides again shortly after when the router refuses the decision as early', async () => {
    const { host, cfp, timer } = await startRound();
    host.deliver(answer(cfp, 'a', 'propose', { price: 50 }));
    host.deliver(answer(cfp, 'b', 'propose', { price: 30 }));
    host.fireTimer(timer);
    const early = { error: { code: 'PROTOCOL_VIOLATION', message: 'before the proposals are in' } };
    host.deliver({ ...answer(cfp, 'b', 'not-understood', early), in_reply_to: 'accept' });
    host.deliver({ ...answer(cfp, 'a', 'not-understood', early), in_reply_to: 'reject' });
    expect([...host.timers.values()]).toEqual([5]);
    const before = host.sent.length;
    host.fireTimer([...host.timers.keys()][0]);
    expect(host.sent.slice(before).map((m) => `${m.performative} ${m.receiver}`)).toEqual(['accept-proposal b', 'reject-proposal a']);
    const { replies } = host.exchange({ ...answer(cfp, 'b', 'inform', { done: true }), in_reply_to: 'accept' });
    expect(replies[0].content).toMatchObject({ winner: 'b', failures: [] });
  });

  it('reports failure NO_PROPOSALS when nobody proposed, naming who timed out', async () => {
    const { host, cfp, timer } = await startRound();
    host.deliver(timeout(cfp, 'silent-1'));
    const before = host.sent.length;
    host.fireTimer(timer);
    expect(host.sent.slice(before)).toEqual([
      expect.objectContaining({ performative: 'failure', receiver: CLIENT, content: expect.objectContaining({ error: expect.objectContaining({ code: 'NO_PROPOSALS' }), timeouts: ['silent-1'] }) }),
    ]);
  });

  it('reports the winner failing to deliver', async () => {
    const { host, cfp, timer } = await startRound();
    host.deliver(answer(cfp, 'a', 'propose', { price: 50 }));
    host.fireTimer(timer);
    const { replies } = host.exchange({ ...timeout(cfp, 'a'), in_reply_to: 'accept' });
    expect(replies[0]).toMatchObject({ performative: 'failure', content: { error: { code: 'WINNER_FAILED' }, winner: 'a', timeouts: ['a'] } });
  });

  it('fails at once when no agent advertises the capability, and refuses a request without one', async () => {
    const { host, cfp } = await startRound();
    const { replies } = host.exchange(answer(cfp, 'capability:paint', 'failure', { error: { code: 'AGENT_NOT_FOUND', message: 'none' } }));
    expect(replies[0]).toMatchObject({ performative: 'failure', receiver: CLIENT, content: { error: { code: 'NO_PARTICIPANTS' } } });
    const bad = host.exchange({ performative: 'request', sender: CLIENT, content: { task: 'x' } }).replies[0];
    expect(bad).toMatchObject({ performative: 'refuse', content: { error: { code: 'INVALID_ARGUMENT' } } });
  });
});
