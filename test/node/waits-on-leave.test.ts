// A client waiting on an agent routed to a node that leaves gracefully (src/node/waits-on-leave.ts): when that
// node forwarded without naming the client's node (the previous version), the replies would come back
// through it and cannot once it left, so each silent receiver there answers failure REPLY_PATH_LOST; when it
// names origins (this version), the new owner answers directly and the wait goes on, placed on the agent's new
// node, so that node's death still answers it (NODE_FAILED).
import { describe, expect, it } from 'vitest';
import { LocalAgentDirectory } from '../../src/messaging/agent-directory.ts';
import { ClientInbox } from '../../src/messaging/client-inbox.ts';
import { EventBus } from '../../src/node/event-bus.ts';
import { answerWaitsOnDeath, remoteNodeOf } from '../../src/node/waits-on-death.ts';
import { answerWaitsOnLeave } from '../../src/node/waits-on-leave.ts';
import { ManualTimers, stamped } from '../messaging/fakes.ts';

function setUp(readers: string[]) {
  const timers = new ManualTimers();
  const inbox = new ClientInbox({ setTimer: timers.setTimer });
  const directory = new LocalAgentDirectory('n1');
  directory.upsert('old-node-agent', 'n2', []);
  directory.upsert('new-node-agent', 'n3', []);
  const events = new EventBus();
  answerWaitsOnDeath({ events, inbox });
  answerWaitsOnLeave({ events, inbox, readsOrigins: (node) => readers.includes(node), nodeOf: remoteNodeOf(directory) });
  const wait = (receiver: string, conversation: string) => {
    const sent = stamped({ performative: 'request', sender: 'client:alice', receiver, conversation_id: conversation });
    return { sent, replies: inbox.expect(sent, [receiver], 60_000, { nodeOf: remoteNodeOf(directory) }) };
  };
  return { inbox, events, wait, directory };
}

describe('client waits when the node their request went to leaves', () => {
  it('a node of the previous version left: each silent receiver there answers failure REPLY_PATH_LOST', async () => {
    const { inbox, events, wait } = setUp(['n3']);
    const onOld = wait('old-node-agent', 'c1');
    wait('new-node-agent', 'c2');
    events.publish('member', { id: 'n2', state: 'suspect' });
    expect(inbox.waiting).toBe(2);
    events.publish('member', { id: 'n2', state: 'left' });
    const got = await onOld.replies;
    expect(got.map((r) => [r.sender, r.performative])).toEqual([['old-node-agent', 'failure']]);
    expect(got[0].content).toMatchObject({ error: { code: 'REPLY_PATH_LOST', details: { receiver: 'old-node-agent', node: 'n2' } } });
    expect(inbox.waiting).toBe(1);
  });

  it('a node that names origins left: the wait goes on, and the owner\'s direct reply ends it', async () => {
    const { inbox, events, wait } = setUp(['n3']);
    const onNew = wait('new-node-agent', 'c2');
    events.publish('member', { id: 'n3', state: 'left' });
    expect(inbox.waiting).toBe(1);
    inbox.deliver(stamped({ performative: 'inform', sender: 'new-node-agent', receiver: 'client:alice', conversation_id: 'c2', in_reply_to: onNew.sent.message_id }), 'client:alice');
    expect((await onNew.replies).map((r) => r.performative)).toEqual(['inform']);
  });

  it('a node that names origins left: a receiver it handed on is then awaited on its new node, whose death fails it', async () => {
    const { inbox, events, wait, directory } = setUp(['n3']);
    const onNew = wait('new-node-agent', 'c2');
    directory.upsert('new-node-agent', 'n4', []); // the hand-over's new owner, as the registry now says
    events.publish('member', { id: 'n3', state: 'left' });
    events.publish('member', { id: 'n3', state: 'dead' });
    expect(inbox.waiting).toBe(1);
    events.publish('member', { id: 'n4', state: 'dead' });
    const got = await onNew.replies;
    expect(got[0].content).toMatchObject({ error: { code: 'NODE_FAILED', details: { receiver: 'new-node-agent', node: 'n4' } } });
  });
});
