import { describe, expect, it } from 'vitest';
import { LocalAgentDirectory } from '../../src/messaging/agent-directory.ts';
import { ClientInbox } from '../../src/messaging/client-inbox.ts';
import type { DeliveryOutcome } from '../../src/messaging/delivery.ts';
import type { AclMessage } from '../../src/messaging/message.ts';
import { Router } from '../../src/messaging/router.ts';
import type { RemoteRoute } from '../../src/messaging/router-ports.ts';
import { FakeAgents, FakeDeadLetters, stamped } from './fakes.ts';

function setup(options: { remote?: RemoteRoute } = {}) {
  const directory = new LocalAgentDirectory('node-a');
  const agents = new FakeAgents();
  const deadLetters = new FakeDeadLetters();
  const clients = new ClientInbox();
  const routed: [string, string, DeliveryOutcome][] = [];
  const deadObserved: [string, string][] = [];
  const router = new Router({
    directory,
    localAgents: agents,
    clients,
    deadLetters,
    remote: options.remote,
    observer: {
      onRouted: (m, r, o) => routed.push([m.message_id, r, o]),
      onDeadLetter: (_m, reason, r) => deadObserved.push([r, reason]),
    },
  });
  const deploy = (name: string, capabilities: string[] = [], capacity = Infinity, node = 'node-a') => {
    directory.upsert(name, node, capabilities);
    if (node === 'node-a') agents.add(name, capacity);
  };
  return { directory, agents, deadLetters, clients, router, routed, deadObserved, deploy };
}

const errorOf = (m: AclMessage) => (m.content as { error: { code: string; details?: Record<string, unknown> } }).error;

describe('Router', () => {
  it('delivers to a single local agent the same object, without copying', () => {
    const { router, agents, deploy, routed } = setup();
    deploy('alice');
    const message = stamped({ performative: 'inform', sender: 'bob', receiver: 'alice', content: { x: 1 } });
    router.route(message);
    expect(agents.mailbox('alice')).toHaveLength(1);
    expect(agents.mailbox('alice')[0]).toBe(message);
    expect(routed).toEqual([[message.message_id, 'alice', 'queued']]);
  });

  it('delivers to every agent of a receiver list, duplicates removed', () => {
    const { router, agents, deploy } = setup();
    deploy('a');
    deploy('b');
    router.route(stamped({ performative: 'inform', sender: 'x', receiver: ['a', 'b', 'a'] }));
    expect(agents.mailbox('a')).toHaveLength(1);
    expect(agents.mailbox('b')).toHaveLength(1);
  });

  it('removes duplicates from long receiver lists too', () => {
    const { router, agents, deploy } = setup();
    const names = Array.from({ length: 20 }, (_, i) => `agent-${i}`);
    for (const name of names) deploy(name);
    router.route(stamped({ performative: 'inform', sender: 'x', receiver: [...names, ...names.slice(0, 5)] }));
    for (const name of names) expect(agents.mailbox(name)).toHaveLength(1);
  });

  it('expands capability receivers to every advertising agent, merged with named receivers', () => {
    const { router, agents, deploy } = setup();
    deploy('a', ['pricing']);
    deploy('b', ['pricing', 'search']);
    deploy('c', ['search']);
    deploy('sender');
    const message = stamped({ performative: 'cfp', sender: 'sender', receiver: ['capability:pricing', 'b', 'capability:search'] });
    expect(router.resolveReceivers(message)).toEqual(['a', 'b', 'c']);
    router.route(message);
    for (const name of ['a', 'b', 'c']) expect(agents.mailbox(name)).toEqual([message]);
    expect(agents.mailbox('sender')).toEqual([]);
  });

  it('routes a single capability string receiver', () => {
    const { router, agents, deploy } = setup();
    deploy('a', ['pricing']);
    deploy('b', ['pricing']);
    router.route(stamped({ performative: 'inform', sender: 'x', receiver: 'capability:pricing' }));
    expect(agents.mailbox('a')).toHaveLength(1);
    expect(agents.mailbox('b')).toHaveLength(1);
  });

  it('answers an unknown receiver with AGENT_NOT_FOUND at once, from that receiver, and dead-letters it', () => {
    const { router, agents, deploy, deadLetters, deadObserved } = setup();
    deploy('sender');
    deploy('known');
    const message = stamped({ performative: 'request', sender: 'sender', receiver: ['ghost', 'known'], reply_with: 'r1' });
    router.route(message);
    const [failure] = agents.mailbox('sender');
    expect(failure.performative).toBe('failure');
    expect(failure.sender).toBe('ghost');
    expect(failure.in_reply_to).toBe('r1');
    expect(failure.conversation_id).toBe(message.conversation_id);
    expect(errorOf(failure)).toMatchObject({ code: 'AGENT_NOT_FOUND', details: { receiver: 'ghost' } });
    expect(agents.mailbox('known')).toEqual([message]);
    expect(deadLetters.records).toEqual([{ message, reason: 'AGENT_NOT_FOUND', receiver: 'ghost' }]);
    expect(deadObserved).toEqual([['ghost', 'AGENT_NOT_FOUND']]);
  });

  it('answers a capability nobody advertises with AGENT_NOT_FOUND naming the capability', () => {
    const { router, agents, deploy, deadLetters } = setup();
    deploy('sender');
    const message = stamped({ performative: 'cfp', sender: 'sender', receiver: 'capability:teleport' });
    expect(router.resolveReceivers(message)).toEqual(['capability:teleport']);
    router.route(message);
    const [failure] = agents.mailbox('sender');
    expect(failure.sender).toBe('capability:teleport');
    expect(errorOf(failure)).toMatchObject({ code: 'AGENT_NOT_FOUND', details: { capability: 'teleport' } });
    expect(deadLetters.records.map((r) => r.reason)).toEqual(['AGENT_NOT_FOUND']);
  });

  it('answers a full mailbox with MAILBOX_FULL and a stopped agent with AGENT_UNAVAILABLE', () => {
    const { router, agents, deploy, deadLetters } = setup();
    deploy('sender');
    deploy('busy', [], 1);
    deploy('asleep');
    agents.stopped.add('asleep');
    router.route(stamped({ performative: 'inform', sender: 'sender', receiver: 'busy' }));
    router.route(stamped({ performative: 'inform', sender: 'sender', receiver: 'busy' }));
    router.route(stamped({ performative: 'request', sender: 'sender', receiver: 'asleep' }));
    expect(agents.mailbox('busy')).toHaveLength(1);
    const failures = agents.mailbox('sender');
    expect(failures.map((f) => [f.sender, errorOf(f).code])).toEqual([
      ['busy', 'MAILBOX_FULL'],
      ['asleep', 'AGENT_UNAVAILABLE'],
    ]);
    expect(deadLetters.records.map((r) => r.reason)).toEqual(['MAILBOX_FULL', 'AGENT_UNAVAILABLE']);
  });

  it('never answers a failure or not-understood with a failure, but still dead-letters it', () => {
    const { router, agents, deploy, deadLetters } = setup();
    deploy('sender');
    router.route(stamped({ performative: 'failure', sender: 'sender', receiver: 'ghost' }));
    router.route(stamped({ performative: 'not-understood', sender: 'sender', receiver: 'ghost' }));
    expect(agents.mailbox('sender')).toEqual([]);
    expect(deadLetters.records.map((r) => r.reason)).toEqual(['AGENT_NOT_FOUND', 'AGENT_NOT_FOUND']);
  });

  it('dead-letters the failure too when its own receiver is gone, and stops there', () => {
    const { router, deadLetters } = setup();
    router.route(stamped({ performative: 'request', sender: 'vanished', receiver: 'ghost' }));
    expect(deadLetters.records.map((r) => [r.message.performative, r.reason, r.receiver])).toEqual([
      ['request', 'AGENT_NOT_FOUND', 'ghost'],
      ['failure', 'AGENT_NOT_FOUND', 'vanished'],
    ]);
  });

  it('keeps order per (sender, receiver) when senders interleave', () => {
    const { router, agents, deploy } = setup();
    deploy('r1');
    deploy('r2');
    const senders = ['s1', 's2', 's3'];
    for (let i = 0; i < 300; i++) {
      const sender = senders[(i * 7) % 3];
      const receiver = i % 5 === 0 ? ['r1', 'r2'] : i % 2 === 0 ? 'r1' : 'r2';
      router.route(stamped({ performative: 'inform', sender, receiver, content: i }));
    }
    for (const receiver of ['r1', 'r2']) {
      for (const sender of senders) {
        const seq = agents
          .mailbox(receiver)
          .filter((m) => m.sender === sender)
          .map((m) => m.content as number);
        expect(seq.length).toBeGreaterThan(0);
        expect(seq).toEqual([...seq].sort((a, b) => a - b));
      }
    }
  });

  it('sends to the node the directory names through the remote route', () => {
    const sent: [string, AclMessage][] = [];
    const { router, deploy, agents } = setup({
      remote: {
        send: (node, message) => {
          sent.push([node, message]);
          return 'queued';
        },
      },
    });
    deploy('sender');
    deploy('far', ['pricing'], Infinity, 'node-b');
    const message = stamped({ performative: 'request', sender: 'sender', receiver: 'capability:pricing' });
    router.route(message);
    expect(sent).toEqual([['node-b', message]]);
    expect(agents.mailbox('sender')).toEqual([]);
  });

  it('reads a remote outcome like a local one, and answers NODE_UNREACHABLE when no link exists', () => {
    const withRemote = setup({ remote: { send: () => 'mailbox_full' } });
    withRemote.deploy('sender');
    withRemote.deploy('far', [], Infinity, 'node-b');
    withRemote.router.route(stamped({ performative: 'request', sender: 'sender', receiver: 'far' }));
    expect(errorOf(withRemote.agents.mailbox('sender')[0]).code).toBe('MAILBOX_FULL');

    const single = setup();
    single.deploy('sender');
    single.deploy('far', [], Infinity, 'node-b');
    single.router.route(stamped({ performative: 'request', sender: 'sender', receiver: 'far' }));
    expect(errorOf(single.agents.mailbox('sender')[0]).code).toBe('NODE_UNREACHABLE');

    const full = setup({ remote: { send: () => 'link_full' } });
    full.deploy('sender');
    full.deploy('far', [], Infinity, 'node-b');
    full.router.route(stamped({ performative: 'request', sender: 'sender', receiver: 'far' }));
    expect(errorOf(full.agents.mailbox('sender')[0]).code).toBe('LINK_FULL');
    expect(full.deadLetters.records.at(-1)?.reason).toBe('LINK_FULL');
  });

  it('delivers a message from a peer to the one receiver it was sent for, observing its conversation', () => {
    const { router, agents, deploy } = setup();
    deploy('here');
    deploy('also-here');
    const message = stamped({ performative: 'request', sender: 'far', receiver: ['here', 'also-here'], protocol: 'fipa-request' });
    router.deliverFromPeer(message, 'here');
    expect(agents.mailbox('here')).toEqual([message]);
    expect(agents.mailbox('also-here')).toEqual([]);
  });

  it('hands messages for system agents to their handler, and a throwing handler answers AGENT_ERROR', () => {
    const { router, agents, deploy, deadLetters } = setup();
    deploy('sender');
    const seen: AclMessage[] = [];
    router.registerSystemAgent('df', (m) => seen.push(m));
    router.registerSystemAgent('ams', () => {
      throw new Error('boom');
    });
    expect(() => router.registerSystemAgent('df', () => {})).toThrow(/already registered/);
    const query = stamped({ performative: 'query-ref', sender: 'sender', receiver: 'df', content: { capability: 'x' } });
    router.route(query);
    expect(seen).toEqual([query]);
    router.route(stamped({ performative: 'query-ref', sender: 'sender', receiver: 'ams' }));
    const [failure] = agents.mailbox('sender');
    expect(failure.sender).toBe('ams');
    expect(errorOf(failure).code).toBe('AGENT_ERROR');
    expect(deadLetters.records.map((r) => r.reason)).toEqual(['AGENT_ERROR']);
  });

  it('routes failures to a waiting client and dead-letters replies nobody waits for', async () => {
    const { router, clients, deadLetters } = setup();
    const message = stamped({ performative: 'request', sender: 'client:ops', receiver: 'ghost' });
    const wait = clients.expect(message, router.resolveReceivers(message), 60_000);
    router.route(message);
    const replies = await wait;
    expect(replies.map((r) => [r.sender, errorOf(r).code])).toEqual([['ghost', 'AGENT_NOT_FOUND']]);

    router.route(stamped({ performative: 'inform', sender: 'late', receiver: 'client:ops' }));
    expect(deadLetters.records.map((r) => [r.reason, r.receiver])).toEqual([
      ['AGENT_NOT_FOUND', 'ghost'],
      ['NO_CLIENT_WAITING', 'client:ops'],
    ]);
  });

  it('delivers to an agent running here before the directory has caught up', () => {
    const { router, agents } = setup();
    agents.add('fresh');
    router.route(stamped({ performative: 'inform', sender: 'x', receiver: 'fresh' }));
    expect(agents.mailbox('fresh')).toHaveLength(1);
  });
});
