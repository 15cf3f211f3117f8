// Review finding, through a real node: with messages.conversations_max 50, a client's fipa-request to a
// participant that never answers, then 60 new fipa-request conversations from anyone: the first one was evicted
// and its client's wait ended empty, its TIMEOUT lost. Now the wait ends with the participant's failure as soon
// as the conversation is evicted (no reply_by needed: the wait ends when every receiver has answered).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestNode, type TestNode } from './node-harness.ts';

let n: TestNode;
beforeAll(async () => {
  n = await startTestNode({ 'messages.conversations_max': 50 });
});
afterAll(() => n?.stop());

describe('a conversation evicted while its participant still owes an answer', () => {
  it("ends the initiator's wait with a failure QUOTA_EXCEEDED from that participant", async () => {
    const waiting = n.api('/api/v1/messages?wait_ms=10000', {
      json: { performative: 'request', protocol: 'fipa-request', receiver: 'client:silent', conversation_id: 'victim' },
    });
    // Tracked before the flood starts, so the flood is what evicts it.
    expect(await eventually(() => n.node.conversations.view('victim'), (v) => v !== undefined)).toBeDefined();
    // From 60 clients: one alone may hold only a tenth of the places (messages-conversation-quota.test.ts).
    for (let i = 0; i < 60; i++) {
      await n.node.sendMessage({ performative: 'request', protocol: 'fipa-request', receiver: `client:x${i}` }, { principal: `sender-${i}` });
    }
    const { status, body } = await waiting;
    expect(status).toBe(200);
    expect(body.replies).toEqual([
      expect.objectContaining({
        performative: 'failure',
        sender: 'client:silent',
        conversation_id: 'victim',
        content: { error: expect.objectContaining({ code: 'QUOTA_EXCEEDED', details: { participant: 'client:silent', reason: 'evicted' } }) },
      }),
    ]);
    expect(n.node.conversations.view('victim')).toBeUndefined();
  });
});
