// A client waiting on agents of another node gets `failure` NODE_FAILED from each receiver still silent when
// that node is declared dead (src/node/waits-on-death.ts), and nothing more from receivers that answered or
// live elsewhere.
import { describe, expect, it } from 'vitest';
import { LocalAgentDirectory } from '../../src/messaging/agent-directory.ts';
import { ClientInbox } from '../../src/messaging/client-inbox.ts';
import { EventBus } from '../../src/node/event-bus.ts';
import { answerWaitsOnDeath, remoteNodeOf } from '../../src/node/waits-on-death.ts';
import { ManualTimers, stamped } from './fakes.ts';

describe('client waits when a node dies', () => {
  it('a silent receiver on the dead node answers failure NODE_FAILED; the others are untouched', async () => {
    const timers = new ManualTimers();
    const inbox = new ClientInbox({ setTimer: timers.setTimer });
    const directory = new LocalAgentDirectory('n1');
    directory.upsert('far', 'n2', []);
    directory.upsert('other', 'n3', []);
    directory.upsert('near', 'n1', []);
    const events = new EventBus();
    answerWaitsOnDeath({ events, inbox });
    const sent = stamped({ performative: 'request', sender: 'client:alice', receiver: ['far', 'other', 'near'], conversation_id: 'c1' });
    const replies = inbox.expect(sent, ['far', 'other', 'near'], 60_000, { nodeOf: remoteNodeOf(directory) });
    inbox.deliver(stamped({ performative: 'inform', sender: 'near', receiver: 'client:alice', conversation_id: 'c1', in_reply_to: sent.message_id }), 'client:alice');
    inbox.deliver(stamped({ performative: 'inform', sender: 'other', receiver: 'client:alice', conversation_id: 'c1', in_reply_to: sent.message_id }), 'client:alice');
    events.publish('member', { id: 'n3', state: 'dead' });
    expect(inbox.waiting).toBe(1);
    events.publish('member', { id: 'n2', state: 'suspect' });
    expect(inbox.waiting).toBe(1);
    events.publish('member', { id: 'n2', state: 'dead' });
    const got = await replies;
    expect(got.map((r) => [r.sender, r.performative])).toEqual([
      ['near', 'inform'],
      ['other', 'inform'],
      ['far', 'failure'],
    ]);
    expect(got[2].content).toMatchObject({ error: { code: 'NODE_FAILED', details: { receiver: 'far', node: 'n2' } } });
    expect(inbox.waiting).toBe(0);
  });
});
