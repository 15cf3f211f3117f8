import { describe, expect, it } from 'vitest';
import { LocalAgentDirectory } from '../../src/messaging/agent-directory.ts';
import { countsAsAnswer } from '../../src/messaging/answers.ts';
import { ClientInbox } from '../../src/messaging/client-inbox.ts';
import type { AclMessage, MessageInput } from '../../src/messaging/message.ts';
import { routeAndWait } from '../../src/messaging/route-and-wait.ts';
import { Router } from '../../src/messaging/router.ts';
import { FakeAgents, FakeDeadLetters, ManualTimers, stamped } from './fakes.ts';

function setup() {
  const timers = new ManualTimers();
  const inbox = new ClientInbox({ setTimer: timers.setTimer });
  const directory = new LocalAgentDirectory('n1');
  const agents = new FakeAgents();
  const deadLetters = new FakeDeadLetters();
  const router = new Router({ directory, localAgents: agents, clients: inbox, deadLetters });
  const deploy = (name: string, capabilities: string[] = []) => {
    directory.upsert(name, 'n1', capabilities);
    agents.add(name);
  };
  /** An agent's reply to `to`, as the host stamps it. */
  const reply = (to: AclMessage, from: string, performative: MessageInput['performative'], extra: Partial<AclMessage> = {}) =>
    stamped({
      performative,
      sender: from,
      receiver: to.sender,
      conversation_id: to.conversation_id,
      in_reply_to: to.reply_with ?? to.message_id,
      ...extra,
    });
  return { timers, inbox, router, agents, deadLetters, deploy, reply };
}

/** Lets promise callbacks run; resolution is observed, never timed. */
const settled = async <T>(promise: Promise<T>) => {
  let done = false;
  void promise.then(() => (done = true));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
};

describe('ClientInbox', () => {
  it('gathers agree then inform for a request, resolving only on the inform', async () => {
    const { inbox, router, deploy, reply } = setup();
    deploy('worker');
    const sent = stamped({ performative: 'request', sender: 'client:ops', receiver: 'worker', reply_with: 'rw-1' });
    const streamed: string[] = [];
    const wait = routeAndWait(router, inbox, sent, 60_000, { onReply: (r) => streamed.push(r.performative) });
    router.route(reply(sent, 'worker', 'agree'));
    expect(await settled(wait)).toBe(false);
    router.route(reply(sent, 'worker', 'inform', { content: { done: true } }));
    const replies = await wait;
    expect(replies.map((r) => r.performative)).toEqual(['agree', 'inform']);
    expect(streamed).toEqual(['agree', 'inform']);
    expect(inbox.waiting).toBe(0);
  });

  it('waits for a propose or refuse from each of 3 capability participants of a cfp', async () => {
    const { inbox, router, deploy, reply } = setup();
    for (const name of ['p1', 'p2', 'p3']) deploy(name, ['bid']);
    const sent = stamped({ performative: 'cfp', sender: 'client:ops', receiver: 'capability:bid' });
    const wait = routeAndWait(router, inbox, sent, 60_000);
    router.route(reply(sent, 'p2', 'propose', { content: 5 }));
    router.route(reply(sent, 'p1', 'refuse'));
    expect(await settled(wait)).toBe(false);
    router.route(reply(sent, 'p3', 'propose', { content: 7 }));
    const replies = await wait;
    expect(replies.map((r) => [r.sender, r.performative])).toEqual([
      ['p2', 'propose'],
      ['p1', 'refuse'],
      ['p3', 'propose'],
    ]);
  });

  it('returns what arrived when the time is up', async () => {
    const { inbox, router, deploy, reply, timers } = setup();
    deploy('a');
    deploy('b');
    const sent = stamped({ performative: 'query-ref', sender: 'client:ops', receiver: ['a', 'b'] });
    const wait = routeAndWait(router, inbox, sent, 250);
    expect([...timers.pending].map((t) => t.ms)).toEqual([250]);
    router.route(reply(sent, 'a', 'inform'));
    expect(await settled(wait)).toBe(false);
    timers.fireAll();
    expect((await wait).map((r) => r.sender)).toEqual(['a']);
    expect(inbox.waiting).toBe(0);
  });

  it('ignores replies to another message, another conversation or another client', async () => {
    const { inbox, router, deploy, reply, deadLetters, timers } = setup();
    deploy('a');
    const sent = stamped({ performative: 'request', sender: 'client:ops', receiver: 'a', reply_with: 'mine' });
    const wait = routeAndWait(router, inbox, sent, 1000);
    router.route(reply(sent, 'a', 'inform', { in_reply_to: 'someone-else' }));
    router.route(reply(sent, 'a', 'inform', { conversation_id: 'other' }));
    router.route(reply(sent, 'a', 'inform', { receiver: 'client:eve' }));
    timers.fireAll();
    expect(await wait).toEqual([]);
    expect(deadLetters.records.map((r) => r.reason)).toEqual(Array(3).fill('NO_CLIENT_WAITING'));
  });

  it('keeps apart several waits in one conversation: of two clients, and two of one client', async () => {
    const { inbox, router, deploy, reply, timers } = setup();
    deploy('a');
    const ops = stamped({ performative: 'request', sender: 'client:ops', receiver: 'a', conversation_id: 'shared' });
    const eve = stamped({ performative: 'request', sender: 'client:eve', receiver: 'a', conversation_id: 'shared' });
    const opsAgain = stamped({ performative: 'request', sender: 'client:ops', receiver: 'a', conversation_id: 'shared' });
    const waits = [ops, eve, opsAgain].map((sent) => routeAndWait(router, inbox, sent, 1000));
    expect(inbox.waiting).toBe(3);
    expect(inbox.waitsFor('client:eve', 'shared')).toBe(true);
    router.route(reply(opsAgain, 'a', 'inform'));
    router.route(reply(eve, 'a', 'inform'));
    expect(inbox.waiting).toBe(1);
    expect(inbox.waitsFor('client:eve', 'shared')).toBe(false);
    expect(inbox.waitsFor('client:ops', 'shared')).toBe(true);
    timers.fireAll();
    const [first, second, third] = await Promise.all(waits);
    expect(first).toEqual([]);
    expect(second.map((r) => r.in_reply_to)).toEqual([eve.message_id]);
    expect(third.map((r) => r.in_reply_to)).toEqual([opsAgain.message_id]);
    expect(inbox.waiting).toBe(0);
    expect(inbox.waitsFor('client:ops', 'shared')).toBe(false);
  });

  it('reuses the place of an ended wait without mixing its conversation into the next', async () => {
    const { inbox, router, deploy, reply, deadLetters } = setup();
    deploy('a');
    const first = stamped({ performative: 'request', sender: 'client:ops', receiver: 'a', conversation_id: 'c1' });
    const firstWait = routeAndWait(router, inbox, first, 1000);
    router.route(reply(first, 'a', 'inform'));
    expect((await firstWait).map((r) => r.conversation_id)).toEqual(['c1']);
    // The second wait takes the place the first left; a late reply of the first conversation must not reach it.
    const second = stamped({ performative: 'request', sender: 'client:ops', receiver: 'a', conversation_id: 'c2' });
    const secondWait = routeAndWait(router, inbox, second, 1000);
    router.route(reply(first, 'a', 'inform', { content: 'late' }));
    expect(await settled(secondWait)).toBe(false);
    expect(deadLetters.records.map((d) => d.message.conversation_id)).toEqual(['c1']);
    router.route(reply(second, 'a', 'inform'));
    expect((await secondWait).map((r) => r.conversation_id)).toEqual(['c2']);
    // Many waits open at once, ended out of order, each gets its own reply only.
    const sent = Array.from({ length: 50 }, (_, i) => stamped({ performative: 'request', sender: 'client:ops', receiver: 'a', conversation_id: `m${i}` }));
    const waits = sent.map((m) => routeAndWait(router, inbox, m, 1000));
    for (let i = sent.length - 1; i >= 0; i -= 2) router.route(reply(sent[i], 'a', 'inform'));
    for (let i = 0; i < sent.length; i += 2) router.route(reply(sent[i], 'a', 'inform'));
    const answered = await Promise.all(waits);
    expect(answered.map((replies) => replies.map((r) => r.conversation_id))).toEqual(sent.map((m) => [m.conversation_id]));
    expect(inbox.waiting).toBe(0);
  });

  it('accepts replies without in_reply_to or naming the message id, in the same conversation', async () => {
    const { inbox, router, deploy, reply } = setup();
    deploy('a');
    deploy('b');
    const sent = stamped({ performative: 'request', sender: 'client:ops', receiver: ['a', 'b'], reply_with: 'rw' });
    const wait = routeAndWait(router, inbox, sent, 60_000);
    router.route(reply(sent, 'a', 'inform', { in_reply_to: undefined }));
    router.route(reply(sent, 'b', 'failure', { in_reply_to: sent.message_id }));
    expect((await wait).map((r) => r.sender)).toEqual(['a', 'b']);
  });

  it('counts a synchronous AGENT_NOT_FOUND as the answer of a capability with no agents', async () => {
    const { inbox, router } = setup();
    const sent = stamped({ performative: 'cfp', sender: 'client:ops', receiver: ['capability:none', 'ghost'] });
    const replies = await routeAndWait(router, inbox, sent, 60_000);
    expect(replies.map((r) => r.sender)).toEqual(['capability:none', 'ghost']);
  });

  it('ends a wait when its signal aborts, and on close', async () => {
    const { inbox, router, deploy } = setup();
    deploy('a');
    const controller = new AbortController();
    const first = routeAndWait(router, inbox, stamped({ performative: 'request', sender: 'client:x', receiver: 'a' }), 1000, {
      signal: controller.signal,
    });
    const second = routeAndWait(router, inbox, stamped({ performative: 'request', sender: 'client:x', receiver: 'a' }), 1000);
    expect(inbox.waiting).toBe(2);
    controller.abort();
    expect(await first).toEqual([]);
    inbox.close();
    expect(await second).toEqual([]);
    expect(inbox.waiting).toBe(0);
  });

  it('keeps routing when a stream callback throws', async () => {
    const { inbox, router, deploy, reply } = setup();
    deploy('a');
    const sent = stamped({ performative: 'request', sender: 'client:ops', receiver: 'a' });
    const wait = routeAndWait(router, inbox, sent, 60_000, {
      onReply: () => {
        throw new Error('socket closed');
      },
    });
    router.route(reply(sent, 'a', 'inform'));
    expect(await wait).toHaveLength(1);
  });
});

describe('countsAsAnswer', () => {
  it('follows interfaces.md', () => {
    expect(countsAsAnswer('request', 'agree')).toBe(false);
    expect(countsAsAnswer('request', 'inform')).toBe(true);
    expect(countsAsAnswer('cfp', 'propose')).toBe(true);
    expect(countsAsAnswer('cfp', 'inform')).toBe(false);
    expect(countsAsAnswer('query-if', 'refuse')).toBe(true);
    expect(countsAsAnswer('query-ref', 'agree')).toBe(false);
    expect(countsAsAnswer('subscribe', 'agree')).toBe(true);
    expect(countsAsAnswer('subscribe', 'inform')).toBe(false);
    expect(countsAsAnswer('inform', 'agree')).toBe(true);
    expect(countsAsAnswer('accept-proposal', 'failure')).toBe(true);
  });
});
