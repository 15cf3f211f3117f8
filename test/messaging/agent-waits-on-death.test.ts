// An agent waiting on an agent of another node gets `failure` NODE_FAILED from it when that node is declared
// dead after its link acknowledged the message (src/node/waits-on-death.ts over Router.failAwaitsOn and
// RemoteAwaits): exactly one answer per message, whichever of the agent's reply, LINK_LOST or the death
// comes first, and nothing for a receiver a leaving node handed over.
import { describe, expect, it } from 'vitest';
import { LocalAgentDirectory } from '../../src/messaging/agent-directory.ts';
import { ClientInbox } from '../../src/messaging/client-inbox.ts';
import { ConversationTracker } from '../../src/messaging/conversations/conversation-tracker.ts';
import type { AclMessage } from '../../src/messaging/message.ts';
import { RemoteAwaits } from '../../src/messaging/remote-awaits.ts';
import { Router } from '../../src/messaging/router.ts';
import { EventBus } from '../../src/node/event-bus.ts';
import { answerWaitsOnDeath, remoteNodeOf } from '../../src/node/waits-on-death.ts';
import { FakeAgents, FakeDeadLetters, ManualTimers, stamped } from './fakes.ts';

function setup(options: { tracker?: boolean } = {}) {
  const directory = new LocalAgentDirectory('n1');
  const agents = new FakeAgents();
  const deadLetters = new FakeDeadLetters();
  const timers = new ManualTimers();
  const inbox = new ClientInbox({ setTimer: timers.setTimer });
  const awaits = new RemoteAwaits({ maxEntries: 1_000, ttlMs: 60_000, now: () => 0 });
  const sentRemote: [string, AclMessage, string][] = [];
  const conversations = options.tracker ? new ConversationTracker({ setTimer: timers.setTimer, now: () => 0 }) : undefined;
  const router = new Router({
    directory,
    localAgents: agents,
    clients: inbox,
    deadLetters,
    remote: {
      send: (node, message, receiver) => {
        sentRemote.push([node, message, receiver]);
        return 'queued';
      },
    },
    remoteAwaits: awaits,
    conversations,
  });
  const events = new EventBus();
  const answered: [string, string, number, number][] = [];
  answerWaitsOnDeath({ events, inbox, agents: { router, awaits, directory, nodeId: 'n1' }, onAnswered: (...a) => answered.push(a) });
  directory.upsert('a', 'n1', []);
  agents.add('a');
  directory.upsert('b', 'n2', []);
  directory.upsert('c', 'n2', []);
  directory.upsert('d', 'n3', []);
  const failuresTo = (name: string) => agents.mailbox(name).filter((m) => m.performative === 'failure');
  return { directory, agents, deadLetters, inbox, awaits, router, events, sentRemote, answered, conversations, failuresTo };
}

const codeOf = (m: AclMessage) => (m.content as { error: { code: string; message: string; details?: Record<string, unknown> } }).error;

describe('agent waits when a node dies', () => {
  it('each unanswered request of a local agent to an agent on the dead node gets failure NODE_FAILED from it', () => {
    const { router, events, failuresTo, answered } = setup();
    const toB = stamped({ performative: 'request', sender: 'a', receiver: 'b', content: { n: 1 } });
    const toC = stamped({ performative: 'query-ref', sender: 'a', receiver: 'c', reply_with: 'q-1' });
    const toD = stamped({ performative: 'request', sender: 'a', receiver: 'd' });
    const informB = stamped({ performative: 'inform', sender: 'a', receiver: 'b' });
    for (const m of [toB, toC, toD, informB]) router.route(m);
    events.publish('member', { id: 'n2', state: 'suspect' });
    expect(failuresTo('a')).toEqual([]);
    events.publish('member', { id: 'n2', state: 'dead' });
    const failures = failuresTo('a');
    expect(failures.map((f) => [f.sender, f.conversation_id, f.in_reply_to])).toEqual([
      ['b', toB.conversation_id, toB.message_id],
      ['c', toC.conversation_id, 'q-1'],
    ]);
    expect(codeOf(failures[0])).toMatchObject({ code: 'NODE_FAILED', details: { receiver: 'b', node: 'n2' } });
    expect(codeOf(failures[0]).code).toBe('NODE_FAILED');
    expect(answered).toEqual([['n2', 'dead', 0, 2]]);
    // A second death notice (gossip repeats) answers nothing more.
    events.publish('member', { id: 'n2', state: 'dead' });
    expect(failuresTo('a')).toHaveLength(2);
  });

  it('a request answered already, or still awaited only after agree, is told accordingly', () => {
    const { router, events, failuresTo } = setup();
    const answeredOne = stamped({ performative: 'request', sender: 'a', receiver: 'b' });
    const agreedOne = stamped({ performative: 'request', sender: 'a', receiver: 'b' });
    router.route(answeredOne);
    router.route(agreedOne);
    router.deliverFromPeer(stamped({ performative: 'inform', sender: 'b', receiver: 'a', conversation_id: answeredOne.conversation_id, in_reply_to: answeredOne.message_id }), 'a');
    router.deliverFromPeer(stamped({ performative: 'agree', sender: 'b', receiver: 'a', conversation_id: agreedOne.conversation_id, in_reply_to: agreedOne.message_id }), 'a');
    events.publish('member', { id: 'n2', state: 'dead' });
    expect(failuresTo('a').map((f) => f.in_reply_to)).toEqual([agreedOne.message_id]);
  });

  it('LINK_LOST first: one failure LINK_LOST, no NODE_FAILED after it', () => {
    const { router, events, failuresTo } = setup();
    const sent = stamped({ performative: 'request', sender: 'a', receiver: 'b' });
    router.route(sent);
    router.reportUndelivered(sent, 'b', 'LINK_LOST', 'the link failed');
    events.publish('member', { id: 'n2', state: 'dead' });
    expect(failuresTo('a').map((f) => codeOf(f).code)).toEqual(['LINK_LOST']);
  });

  it('death first: one failure NODE_FAILED; the LINK_LOST reported later is dead-lettered, not answered again', () => {
    const { router, events, failuresTo, deadLetters } = setup();
    const sent = stamped({ performative: 'request', sender: 'a', receiver: 'b' });
    router.route(sent);
    events.publish('member', { id: 'n2', state: 'dead' });
    router.reportUndelivered(sent, 'b', 'LINK_LOST', 'the link failed');
    expect(failuresTo('a').map((f) => codeOf(f).code)).toEqual(['NODE_FAILED']);
    expect(deadLetters.records.map((r) => r.reason)).toEqual(['LINK_LOST']);
  });

  it('a member that left answers only for receivers it did not hand over', () => {
    const { router, events, failuresTo, directory } = setup();
    const toB = stamped({ performative: 'request', sender: 'a', receiver: 'b' });
    const toC = stamped({ performative: 'request', sender: 'a', receiver: 'c' });
    router.route(toB);
    router.route(toC);
    directory.upsert('b', 'n3', []); // handed over, mailbox and all: n3 answers
    events.publish('member', { id: 'n2', state: 'left' });
    const failures = failuresTo('a');
    expect(failures.map((f) => [f.sender, codeOf(f).code])).toEqual([['c', 'NODE_FAILED']]);
    expect(codeOf(failures[0]).message).toContain('left without handing the agent over');
  });

  it('after a leave, a message whose receiver was handed over follows it: the death of its new node answers it', () => {
    const { router, events, failuresTo, directory, awaits } = setup();
    const toB = stamped({ performative: 'request', sender: 'a', receiver: 'b' });
    router.route(toB);
    directory.upsert('b', 'n3', []);
    events.publish('member', { id: 'n2', state: 'left' });
    expect(failuresTo('a')).toEqual([]);
    expect(awaits.size).toBe(1);
    events.publish('member', { id: 'n2', state: 'dead' }); // a late death notice of the member that left
    expect(failuresTo('a')).toEqual([]);
    events.publish('member', { id: 'n3', state: 'dead' });
    expect(failuresTo('a').map((f) => [f.sender, f.in_reply_to, codeOf(f).details?.node])).toEqual([['b', toB.message_id, 'n3']]);
  });

  it('a receiver handed over to this node: its answer is made here, the entry goes', () => {
    const { router, events, failuresTo, directory, awaits, agents } = setup();
    router.route(stamped({ performative: 'request', sender: 'a', receiver: 'b' }));
    directory.upsert('b', 'n1', []);
    agents.add('b');
    events.publish('member', { id: 'n2', state: 'left' });
    expect(awaits.size).toBe(0);
    expect(failuresTo('a')).toEqual([]);
  });

  it('a drain (no leave) moved the receiver to a node that then dies: answered', () => {
    const { router, events, failuresTo, directory } = setup();
    const toB = stamped({ performative: 'request', sender: 'a', receiver: 'b' });
    router.route(toB);
    directory.upsert('b', 'n3', []);
    events.publish('member', { id: 'n3', state: 'dead' });
    expect(failuresTo('a').map((f) => [f.sender, codeOf(f).code])).toEqual([['b', 'NODE_FAILED']]);
  });

  it('a death answers what was sent there even when the registry already names a new owner', () => {
    const { router, events, failuresTo, directory } = setup();
    router.route(stamped({ performative: 'request', sender: 'a', receiver: 'b' }));
    directory.upsert('b', 'n3', []); // failover on another node was quicker than this node's declaration
    events.publish('member', { id: 'n2', state: 'dead' });
    expect(failuresTo('a').map((f) => codeOf(f).code)).toEqual(['NODE_FAILED']);
  });

  it('a sender whose delivery throws does not cost the other senders their failure', () => {
    const { router, events, failuresTo, agents, directory, answered } = setup();
    directory.upsert('broken', 'n1', []);
    agents.add('broken');
    router.route(stamped({ performative: 'request', sender: 'broken', receiver: 'b' }));
    router.route(stamped({ performative: 'request', sender: 'a', receiver: 'b' }));
    const deliver = agents.deliver.bind(agents);
    agents.deliver = (message, to) => {
      if (to === 'broken') throw new Error('broken mailbox');
      return deliver(message, to);
    };
    events.publish('member', { id: 'n2', state: 'dead' });
    expect(failuresTo('a')).toHaveLength(1);
    expect(answered).toEqual([['n2', 'dead', 0, 1]]);
  });

  it('a client waiting is answered once, by its wait (the agents ledger holds only agents)', async () => {
    const { router, events, inbox, directory, awaits } = setup();
    const sent = stamped({ performative: 'request', sender: 'client:alice', receiver: 'b' });
    const replies = inbox.expect(sent, ['b'], 60_000, { nodeOf: remoteNodeOf(directory) });
    router.route(sent);
    expect(awaits.size).toBe(0);
    events.publish('member', { id: 'n2', state: 'dead' });
    expect((await replies).map((r) => codeOf(r).code)).toEqual(['NODE_FAILED']);
  });

  it('a client waiting on two receivers: death first, then the LINK_LOST for the same message is not a second answer', async () => {
    const { router, events, inbox, directory } = setup();
    const sent = stamped({ performative: 'request', sender: 'client:alice', receiver: ['b', 'd'] });
    const replies = inbox.expect(sent, ['b', 'd'], 60_000, { nodeOf: remoteNodeOf(directory) });
    router.route(sent);
    events.publish('member', { id: 'n2', state: 'dead' });
    router.reportUndelivered(sent, 'b', 'LINK_LOST', 'the link failed');
    router.deliverFromPeer(stamped({ performative: 'inform', sender: 'd', receiver: 'client:alice', conversation_id: sent.conversation_id, in_reply_to: sent.message_id }), 'client:alice');
    expect((await replies).map((r) => [r.sender, r.performative, r.performative === 'failure' ? codeOf(r).code : ''])).toEqual([
      ['b', 'failure', 'NODE_FAILED'],
      ['d', 'inform', ''],
    ]);
  });

  it('in a fipa-request conversation the failure ends the participant’s part (the conversation ends)', () => {
    const { router, events, failuresTo, conversations } = setup({ tracker: true });
    const sent = stamped({ performative: 'request', sender: 'a', receiver: 'b', protocol: 'fipa-request' });
    router.route(sent);
    expect(conversations!.view(sent.conversation_id)?.participants).toEqual([{ name: 'b', state: 'requested' }]);
    events.publish('member', { id: 'n2', state: 'dead' });
    expect(failuresTo('a')).toHaveLength(1);
    expect(conversations!.view(sent.conversation_id)?.participants).toEqual([{ name: 'b', state: 'failed' }]);
  });
});
