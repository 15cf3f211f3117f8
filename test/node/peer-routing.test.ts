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

/**
 * Several nodes' links, each to every other; `deliver(from, to)` moves what `from` sent `to`, origins included
 * unless `to` reads none (a peer of the previous version); `down(node)` makes sends to it unreachable.
 */
function linkMesh(options: { readsNoOrigins?: string[] } = {}) {
  const queues = new Map<string, (Routed & { to: string; origin?: string })[]>();
  const handlers = new Map<string, (from: string, m: AclMessage, r: string, origin?: string) => void>();
  const gone = new Set<string>();
  const make = (self: string): PeerLinks => {
    queues.set(self, []);
    return {
      sendMessage: (to, message, receiver, origin) => {
        if (gone.has(to)) return 'unreachable';
        queues.get(self)!.push({ to, message, receiver, ...(origin !== undefined && !options.readsNoOrigins?.includes(to) ? { origin } : {}) });
        return 'queued';
      },
      onMessage: (h) => handlers.set(self, h),
      onUndelivered: () => {},
    };
  };
  const deliver = (from: string, to: string) => {
    const items = queues.get(from)!;
    queues.set(from, items.filter((i) => i.to !== to));
    for (const { message, receiver, origin } of items.filter((i) => i.to === to)) handlers.get(to)!(from, JSON.parse(JSON.stringify(message)), receiver, origin);
  };
  const down = (node: string) => {
    gone.add(node);
    for (const [from, items] of queues) queues.set(from, items.filter((i) => i.to !== node));
  };
  const sentTo = (from: string, to: string) => queues.get(from)!.filter((i) => i.to === to).length;
  return { make, deliver, down, sentTo };
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
    clientWaits: (client, conversationId) => inbox.waitsFor(client, conversationId),
    ...handOver,
    logger: createLogger({ level: 'silent', node: id }),
  });
  router.setRemoteRoute(peer);
  return { router, local, deadLetters, inbox, peer, directory };
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

  describe('a client\'s message a draining node forwards to the agent\'s new owner (issue 12, rolling upgrade)', () => {
    // a: the client's node, whose registry still places "moved" on old; old: draining, its directory already
    // points "moved" at its new owner; new: the owner. Old stops before the owner answers.
    function cluster(options: { readsNoOrigins?: string[] } = {}) {
      const mesh = linkMesh(options);
      const a = nodeEnd('a', mesh.make('a'), [], { moved: 'old' });
      const old = nodeEnd('old', mesh.make('old'), [], { moved: 'new' });
      const owner = nodeEnd('new', mesh.make('new'), ['moved'], {}, { forwardsFor: (from, name) => from === 'old' && name === 'moved' });
      return { mesh, a, old, owner };
    }
    const replyTo = (request: AclMessage) =>
      stamped({ performative: 'inform', sender: 'moved', receiver: request.sender, conversation_id: request.conversation_id, in_reply_to: request.message_id, content: 'done' });

    it('is answered straight to the client\'s node, so the reply does not die with the draining node', async () => {
      const { mesh, a, old, owner } = cluster();
      const request = stamped({ performative: 'request', sender: 'client:me', receiver: 'moved' });
      const waiting = a.inbox.expect(request, ['moved'], 500);
      a.router.route(request);
      mesh.deliver('a', 'old');
      mesh.deliver('old', 'new');
      expect(owner.local.mailbox('moved').map((m) => m.message_id)).toEqual([request.message_id]);
      mesh.down('old'); // restarted before the owner answered
      owner.router.route(replyTo(request));
      expect(mesh.sentTo('new', 'a')).toBe(1);
      mesh.deliver('new', 'a');
      expect((await waiting).map((r) => `${r.sender}:${r.performative}`)).toEqual(['moved:inform']);
      expect(owner.deadLetters.records).toEqual([]);
      expect(a.deadLetters.records).toEqual([]);
    });

    it('also when the message waited in the mailbox the drain hands over', async () => {
      const { mesh, a, old, owner } = cluster();
      const request = stamped({ performative: 'request', sender: 'client:me', receiver: 'moved' });
      const waiting = a.inbox.expect(request, ['moved'], 500);
      // Before the switch the agent ran on old: the request waits in its mailbox there.
      old.local.add('moved', Infinity);
      a.router.route(request);
      const routedBefore = old.directory;
      routedBefore.upsert('moved', 'old', []);
      mesh.deliver('a', 'old');
      expect(old.local.mailbox('moved')).toHaveLength(1);
      // The drain's switch: the name points at the owner, the mailbox is forwarded.
      routedBefore.upsert('moved', 'new', []);
      for (const m of old.local.mailbox('moved').splice(0)) expect(old.peer.send('new', m, 'moved')).toBe('queued');
      mesh.deliver('old', 'new');
      mesh.down('old');
      owner.router.route(replyTo(request));
      mesh.deliver('new', 'a');
      expect((await waiting).map((r) => `${r.sender}:${r.performative}`)).toEqual(['moved:inform']);
    });

    it('an owner of the previous version (no origins read) still answers through the draining node while it is up', async () => {
      const { mesh, a, old, owner } = cluster({ readsNoOrigins: ['new'] });
      const request = stamped({ performative: 'request', sender: 'client:me', receiver: 'moved' });
      const waiting = a.inbox.expect(request, ['moved'], 500);
      a.router.route(request);
      mesh.deliver('a', 'old');
      mesh.deliver('old', 'new');
      owner.router.route(replyTo(request));
      expect(mesh.sentTo('new', 'old')).toBe(1);
      mesh.deliver('new', 'old');
      mesh.deliver('old', 'a');
      expect((await waiting).map((r) => r.performative)).toEqual(['inform']);
    });

    it('a reply for a client nobody waits for here is still checked against the sender\'s node', () => {
      const { mesh, a, owner } = cluster();
      owner.router.route(stamped({ performative: 'inform', sender: 'moved', receiver: 'client:nobody' }));
      // The owner has no origin for that client: nothing crosses. Sent by hand, a refuses it.
      expect(mesh.sentTo('new', 'a')).toBe(0);
      (owner.peer as unknown as { send: PeerRouting['send'] }).send('a', stamped({ performative: 'inform', sender: 'moved', receiver: 'client:nobody' }), 'client:nobody');
      mesh.deliver('new', 'a');
      expect(a.deadLetters.records.map((r) => r.reason)).toEqual(['SENDER_REFUSED']);
    });
  });
});
