// The router's hop to other nodes, at its own level: a real Router and directory on both ends, the routing
// links replaced by a pair of in-memory queues (the links themselves are tested over TLS in
// test/cluster/routing, and the whole path on real processes in test/e2e/three-nodes.test.ts).
import { describe, expect, it } from 'vitest';
import { LocalAgentDirectory } from '../../src/messaging/agent-directory.ts';
import { ClientInbox } from '../../src/messaging/client-inbox.ts';
import { ClientOrigins } from '../../src/messaging/client-origins.ts';
import type { AclMessage } from '../../src/messaging/message.ts';
import { Router } from '../../src/messaging/router.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { PeerRouting, type PeerLinks } from '../../src/node/peer-routing.ts';
import { FakeAgents, FakeDeadLetters, stamped } from '../messaging/fakes.ts';

type Routed = { message: AclMessage; receiver: string };

/** Two nodes' links joined back to back; `deliver()` moves what was sent, as the peer's link would. */
function linkPair() {
  const queues = new Map<string, { from: string; items: Routed[] }>();
  const handlers = new Map<string, (from: string, m: AclMessage, r: string) => void>();
  const undelivered = new Map<string, (node: string, items: readonly Routed[], reason: string) => void>();
  const make = (self: string, peer: string, result: () => 'queued' | 'full' | 'unreachable' = () => 'queued'): PeerLinks => {
    queues.set(self, { from: self, items: [] });
    return {
      sendMessage: (node, message, receiver) => {
        expect(node).toBe(peer);
        const outcome = result();
        if (outcome === 'queued') queues.get(self)!.items.push({ message, receiver });
        return outcome;
      },
      onMessage: (h) => handlers.set(self, h),
      onUndelivered: (h) => undelivered.set(self, h),
    };
  };
  const deliver = (from: string, to: string) => {
    for (const { message, receiver } of queues.get(from)!.items.splice(0)) handlers.get(to)!(from, JSON.parse(JSON.stringify(message)), receiver);
  };
  const lose = (from: string, peer: string) => undelivered.get(from)!(peer, queues.get(from)!.items.splice(0), 'LINK_LOST');
  return { make, deliver, lose };
}

function nodeEnd(
  id: string,
  links: PeerLinks,
  agents: string[],
  elsewhere: Record<string, string>,
  handOver: { forwardsFor?: (from: string, name: string) => boolean; isDraining?: (node: string) => boolean } = {},
) {
  const directory = new LocalAgentDirectory(id);
  const local = new FakeAgents();
  const deadLetters = new FakeDeadLetters();
  const inbox = new ClientInbox();
  let peer: PeerRouting | undefined;
  const router = new Router({
    directory,
    localAgents: local,
    clients: { deliver: (reply, client) => inbox.deliver(reply, client) || (peer?.forwardClientReply(reply, client) ?? false) },
    deadLetters,
  });
  for (const a of agents) {
    directory.upsert(a, id, []);
    local.add(a, Infinity);
  }
  for (const [a, node] of Object.entries(elsewhere)) directory.upsert(a, node, []);
  const nodeOf = (name: string) => (agents.includes(name) ? id : elsewhere[name]);
  peer = new PeerRouting({
    nodeId: id,
    links,
    router,
    origins: new ClientOrigins({ maxEntries: 100, ttlMs: 60_000 }),
    deadLetters,
    nodeOf,
    ...handOver,
    logger: createLogger({ level: 'silent', node: id }),
  });
  router.setRemoteRoute(peer);
  return { router, local, deadLetters, inbox, peer };
}

describe('PeerRouting', () => {
  it('carries a message to the one receiver on the peer, and the reply back', () => {
    const pair = linkPair();
    const a = nodeEnd('a', pair.make('a', 'b'), ['alice'], { bob: 'b', carol: 'b' });
    const b = nodeEnd('b', pair.make('b', 'a'), ['bob', 'carol'], { alice: 'a' });
    const request = stamped({ performative: 'request', sender: 'alice', receiver: ['bob', 'carol'] });
    a.router.route(request);
    pair.deliver('a', 'b');
    expect(b.local.mailbox('bob').map((m) => m.message_id)).toEqual([request.message_id]);
    expect(b.local.mailbox('carol').map((m) => m.message_id)).toEqual([request.message_id]);
    b.router.route(stamped({ performative: 'inform', sender: 'bob', receiver: 'alice', content: 1 }));
    pair.deliver('b', 'a');
    expect(a.local.mailbox('alice')).toHaveLength(1);
  });

  it('refuses a message whose sender is not an agent of the peer: dead-lettered here, the sender told', () => {
    const pair = linkPair();
    const a = nodeEnd('a', pair.make('a', 'b'), ['alice'], { bob: 'b' });
    const b = nodeEnd('b', pair.make('b', 'a'), ['bob'], { alice: 'a' });
    // Node a speaks for "bob", which runs on b: a spoof.
    const spoof = stamped({ performative: 'request', sender: 'bob', receiver: 'bob' });
    (a.peer as unknown as { send: PeerRouting['send'] }).send('b', spoof, 'bob');
    pair.deliver('a', 'b');
    expect(b.local.mailbox('bob')).toEqual([]);
    expect(b.deadLetters.records).toEqual([expect.objectContaining({ reason: 'SENDER_REFUSED', receiver: 'bob' })]);
    expect(b.peer.refused.get('a')).toBe(1);
  });

  it('refuses a malformed message from a peer without throwing', () => {
    const pair = linkPair();
    const fromA = pair.make('a', 'b');
    const b = nodeEnd('b', pair.make('b', 'a'), ['bob'], {});
    const bad = { performative: 'shout', sender: 'x', receiver: 'bob', message_id: 'm', conversation_id: 'c' } as unknown as AclMessage;
    fromA.sendMessage('b', bad, 'bob');
    expect(() => pair.deliver('a', 'b')).not.toThrow();
    expect(b.local.mailbox('bob')).toEqual([]);
    expect(b.peer.refused.get('a')).toBe(1);
  });

  it('answers LINK_FULL and NODE_UNREACHABLE at once, and LINK_LOST for what a failed link did not confirm', () => {
    const pair = linkPair();
    let outcome: 'queued' | 'full' | 'unreachable' = 'full';
    const a = nodeEnd('a', pair.make('a', 'b', () => outcome), ['alice'], { bob: 'b' });
    a.router.route(stamped({ performative: 'request', sender: 'alice', receiver: 'bob' }));
    outcome = 'unreachable';
    a.router.route(stamped({ performative: 'request', sender: 'alice', receiver: 'bob' }));
    outcome = 'queued';
    a.router.route(stamped({ performative: 'request', sender: 'alice', receiver: 'bob' }));
    pair.lose('a', 'b');
    const codes = a.local.mailbox('alice').map((m) => (m.content as { error: { code: string } }).error.code);
    expect(codes).toEqual(['LINK_FULL', 'NODE_UNREACHABLE', 'LINK_LOST']);
    expect(a.deadLetters.records.map((r) => r.reason)).toEqual(['LINK_FULL', 'NODE_UNREACHABLE', 'LINK_LOST']);
  });

  it('sends a reply for a client back to the node the client wrote from', async () => {
    const pair = linkPair();
    const a = nodeEnd('a', pair.make('a', 'b'), [], { bob: 'b' });
    const b = nodeEnd('b', pair.make('b', 'a'), ['bob'], {});
    const request = stamped({ performative: 'request', sender: 'client:me', receiver: 'bob' });
    const waiting = a.inbox.expect(request, ['bob'], 1000);
    a.router.route(request);
    pair.deliver('a', 'b');
    b.router.route(stamped({ performative: 'inform', sender: 'bob', receiver: 'client:me', conversation_id: request.conversation_id, in_reply_to: request.message_id }));
    pair.deliver('b', 'a');
    const replies = await waiting;
    expect(replies.map((r: AclMessage) => r.sender)).toEqual(['bob']);
  });

  it('during a hand-over, accepts what the draining node forwards or relays, and its copy\'s answers; nothing else', () => {
    const pair = linkPair();
    const old = nodeEnd('old', pair.make('old', 'new'), [], { moved: 'new', zed: 'z' });
    let draining = false;
    const adopted = new Set<string>();
    const fresh = nodeEnd('new', pair.make('new', 'old'), ['moved'], { zed: 'z', stay: 'old' }, {
      forwardsFor: (from, name) => from === 'old' && adopted.has(name),
      isDraining: (node) => draining && node === 'old',
    });
    const send = (m: AclMessage, receiver: string) => (old.peer as unknown as { send: PeerRouting['send'] }).send('new', m, receiver);
    // Before any hand-over: "old" may not speak for zed (on z), nor for moved (on new).
    send(stamped({ performative: 'request', sender: 'zed', receiver: 'moved' }), 'moved');
    send(stamped({ performative: 'inform', sender: 'moved', receiver: 'stay' }), 'stay');
    pair.deliver('old', 'new');
    expect(fresh.deadLetters.records.map((r) => r.reason)).toEqual(['SENDER_REFUSED', 'SENDER_REFUSED']);
    // "new" adopted "moved" from "old": old forwards zed's message to it, and old's copy of moved still answers.
    adopted.add('moved');
    send(stamped({ performative: 'request', sender: 'zed', receiver: 'moved' }), 'moved');
    send(stamped({ performative: 'inform', sender: 'moved', receiver: 'stay', content: 'late answer' }), 'stay');
    pair.deliver('old', 'new');
    expect(fresh.local.mailbox('moved')).toHaveLength(1);
    expect(fresh.deadLetters.records).toHaveLength(2);
    // Once old is known to drain, it may relay for any agent (replies to clients it forwarded for).
    draining = true;
    send(stamped({ performative: 'request', sender: 'zed', receiver: 'moved' }), 'moved');
    pair.deliver('old', 'new');
    expect(fresh.local.mailbox('moved')).toHaveLength(2);
  });
});
