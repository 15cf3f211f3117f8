// A message a client sends through the API reaches the agent, and the conversation history, as the body's own
// text with the host's fields spliced in (no second serialization), whenever that is exact; otherwise it is
// serialized. Either way the text holds exactly the routed message. On the real node, at every agents.workers
// setting the suite runs (the text crosses to a worker as it is).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentModule } from '../agents/fixtures.ts';
import { eventually, startTestNode, type TestNode } from './node-harness.ts';

let t: TestNode;

beforeAll(async () => {
  t = await startTestNode();
  const logger = await agentModule(() => ({ handle: '(call $log (i32.const 1) (local.get $ptr) (local.get $len)) (i32.const 0)' }));
  await t.node.deployAgent({ name: 'logger', capabilities: [] }, logger);
});
afterAll(() => t?.stop());

/** Sends `body` as it is (no re-serialization by the test); the text the logger agent received. */
async function receivedText(body: string): Promise<{ text: string; messageId: string; conversationId: string }> {
  const response = await fetch(`${t.url}/api/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json' },
    body,
  });
  expect(response.status).toBe(202);
  const { message_id: messageId, conversation_id: conversationId } = (await response.json()) as { message_id: string; conversation_id: string };
  const lines = await eventually(
    async () => (await t.node.agentLogs('logger')).map((l) => l.message),
    (all) => all.some((line) => line.includes(messageId)),
  );
  return { text: lines.find((line) => line.includes(messageId))!, messageId, conversationId };
}

describe('a client message is delivered as its body text', () => {
  it('with sender, message_id and a new conversation_id spliced in, spacing kept', async () => {
    const body = '{ "performative" : "inform", "receiver" : "logger", "content" : {"n":[1,"é✓"]} }';
    const { text, messageId } = await receivedText(body);
    expect(text).toBe(`{ "performative" : "inform", "receiver" : "logger", "content" : {"n":[1,"é✓"]} ,"sender":"client:admin","message_id":"${messageId}","conversation_id":"${messageId}"}`);
    // The history stores the same text: read back, it is the routed message.
    const history = await eventually(
      () => t.api(`/api/v1/conversations/${messageId}`),
      (r) => r.status === 200 && r.body.messages?.length === 1,
    );
    expect(history.body.messages[0]).toEqual(JSON.parse(text));
  });

  it('keeps a conversation_id the client named', async () => {
    const { text, messageId } = await receivedText('{"performative":"inform","receiver":"logger","conversation_id":"c-client-1"}');
    expect(text).toBe(`{"performative":"inform","receiver":"logger","conversation_id":"c-client-1","sender":"client:admin","message_id":"${messageId}"}`);
  });

  it('is serialized instead when splicing would not be exact: an escape, a repeated key', async () => {
    for (const body of ['{"performative":"inform","receiver":"logger","content":"say \\"hi\\""}', '{"performative":"inform","receiver":"nobody","receiver":"logger"}']) {
      const { text, messageId, conversationId } = await receivedText(body);
      const sent = JSON.parse(body) as Record<string, unknown>;
      expect(JSON.parse(text)).toEqual({ ...sent, sender: 'client:admin', message_id: messageId, conversation_id: conversationId });
      expect(text).toBe(JSON.stringify(JSON.parse(text)));
    }
  });
});
