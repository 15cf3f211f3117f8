// Review finding: every wait of a conversation is scanned for each reply in it, and nothing bounded how many
// waits one conversation held (only api.max_waits, 10,000, for the node). 8,000 waits of one client in one
// conversation made 8,000 echoes there take 5.9 s of the main thread instead of 0.4 s. A conversation now holds
// at most MAX_WAITS_PER_CONVERSATION waits; a send past it is refused UNAVAILABLE before it is routed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalAgentDirectory } from '../../src/messaging/agent-directory.ts';
import { ClientInbox, MAX_REPLIES_PER_WAIT, MAX_WAITS_PER_CONVERSATION } from '../../src/messaging/client-inbox.ts';
import { routeAndWait } from '../../src/messaging/route-and-wait.ts';
import { Router } from '../../src/messaging/router.ts';
import { FakeAgents, FakeDeadLetters, stamped } from './fakes.ts';
import { startTestNode, type TestNode } from '../conversations/node-harness.ts';

let n: TestNode;
beforeAll(async () => {
  n = await startTestNode({});
  await n.deploy('echo', 'echo');
});
afterAll(() => n?.stop());

describe('waits in one conversation', () => {
  it('are bounded; past the bound a send is refused 503 and not routed, and other conversations are not concerned', async () => {
    const held = Array.from({ length: MAX_WAITS_PER_CONVERSATION }, () =>
      n.node.sendMessage({ performative: 'request', receiver: 'client:nobody', conversation_id: 'crowded' }, { principal: 'a', waitMs: 30_000 }),
    );
    expect(n.node.inbox.waiting).toBe(MAX_WAITS_PER_CONVERSATION);
    const routedBefore = n.node.metrics.messagesRouted.total();
    const refused = await n.api('/api/v1/messages?wait_ms=1000', { json: { performative: 'request', receiver: 'echo', conversation_id: 'crowded', content: 1 } });
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatchObject({ code: 'UNAVAILABLE', details: { conversation_id: 'crowded' } });
    expect(n.node.metrics.messagesRouted.total()).toBe(routedBefore);
    // Streamed, it is the same 503, not a `sent` event followed by an error: the client is not told it was sent.
    const streamed = await fetch(`${n.url}/api/v1/messages?wait_ms=1000&stream=true`, {
      method: 'POST',
      headers: { authorization: `Bearer ${n.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ performative: 'request', receiver: 'echo', conversation_id: 'crowded', content: 1 }),
    });
    const streamedText = await streamed.text();
    expect(streamed.status, streamedText).toBe(503);
    expect(streamedText).not.toMatch(/event: sent/);
    expect(n.node.metrics.messagesRouted.total()).toBe(routedBefore);
    const elsewhere = await n.api('/api/v1/messages?wait_ms=5000', { json: { performative: 'request', receiver: 'echo', content: 2 } });
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.body.replies).toHaveLength(1);
    n.node.inbox.close();
    expect((await Promise.all(held)).every((r) => r.replies?.length === 0)).toBe(true);
  });
});

// Review finding: a wait held every reply that matched it until it ended (up to api.max_wait_ms), answers or
// not: a scripted agent sending 1,000 `agree`s to each of 40 waits took the node from 378 to 550 MB, and a
// receiver could go on for the whole wait. Past MAX_REPLIES_PER_WAIT (or its bytes) a reply that is not a
// receiver's first answer is not taken: it is dead-lettered as one nobody waits for.
describe('replies one wait holds', () => {
  it("are bounded in number; each receiver's first answer is still taken and ends the wait", async () => {
    const inbox = new ClientInbox({ maxReplyBytesPerWait: Infinity });
    const directory = new LocalAgentDirectory('n1');
    const agents = new FakeAgents();
    const deadLetters = new FakeDeadLetters();
    const router = new Router({ directory, localAgents: agents, clients: inbox, deadLetters });
    for (const name of ['chatty', 'quiet']) {
      directory.upsert(name, 'n1', []);
      agents.add(name);
    }
    const sent = stamped({ performative: 'request', sender: 'client:ops', receiver: ['chatty', 'quiet'] });
    const wait = routeAndWait(router, inbox, sent, 60_000);
    const reply = (from: string, performative: 'agree' | 'inform') =>
      stamped({ performative, sender: from, receiver: 'client:ops', conversation_id: sent.conversation_id, in_reply_to: sent.message_id });
    for (let i = 0; i < MAX_REPLIES_PER_WAIT + 500; i++) router.route(reply('chatty', 'agree'));
    router.route(reply('chatty', 'inform'));
    router.route(reply('quiet', 'inform'));
    const replies = await wait;
    // The agrees it could hold, then both first answers.
    expect(replies).toHaveLength(MAX_REPLIES_PER_WAIT + 2);
    expect(replies.slice(-2)).toMatchObject([{ sender: 'chatty', performative: 'inform' }, { sender: 'quiet', performative: 'inform' }]);
    expect(deadLetters.records.filter((d) => d.reason === 'NO_CLIENT_WAITING')).toHaveLength(500);
  });

  it('are bounded in bytes', async () => {
    const inbox = new ClientInbox({ maxReplyBytesPerWait: 2048 });
    const sent = stamped({ performative: 'request', sender: 'client:ops', receiver: 'a' });
    const wait = inbox.expect(sent, ['a'], 60_000);
    const agree = () => stamped({ performative: 'agree', sender: 'a', receiver: 'client:ops', conversation_id: sent.conversation_id });
    const taken = Array.from({ length: 10 }, () => inbox.deliver(agree(), 'client:ops'));
    expect(taken.filter(Boolean)).toHaveLength(4);
    expect(inbox.deliver(stamped({ performative: 'inform', sender: 'a', receiver: 'client:ops', conversation_id: sent.conversation_id }), 'client:ops')).toBe(true);
    expect(await wait).toHaveLength(5);
  });
});
