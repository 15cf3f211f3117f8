// "Never silence, never two answers" for agents awaiting agents of other nodes, over random schedules:
// requests from local agents to agents on two remote nodes, acknowledged or not by the link, answered or not
// by their receiver, links lost (LINK_LOST for what was unacknowledged) and nodes declared dead in any order.
// Each request gets at most one answer at any time, and once every node is dead and every link reported,
// exactly one: the receiver's own, LINK_LOST or NODE_FAILED.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LocalAgentDirectory } from '../../src/messaging/agent-directory.ts';
import { ClientInbox } from '../../src/messaging/client-inbox.ts';
import type { AclMessage } from '../../src/messaging/message.ts';
import { RemoteAwaits } from '../../src/messaging/remote-awaits.ts';
import { Router } from '../../src/messaging/router.ts';
import { EventBus } from '../../src/node/event-bus.ts';
import { answerWaitsOnDeath } from '../../src/node/waits-on-death.ts';
import { fuzzParameters } from '../fuzz/fuzz-runs.ts';
import { FakeAgents, FakeDeadLetters } from './fakes.ts';

const NODES = ['n2', 'n3'] as const;
const RECEIVERS: Record<string, (typeof NODES)[number]> = { b: 'n2', c: 'n3' };
const SENDERS = ['a1', 'a2'];
const REQUESTS = 6;

type Op =
  | { kind: 'send'; i: number }
  | { kind: 'ack'; i: number }
  | { kind: 'answer'; i: number }
  | { kind: 'linkLost'; node: number }
  | { kind: 'dead'; node: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('send' as const), i: fc.integer({ min: 0, max: REQUESTS - 1 }) }),
  fc.record({ kind: fc.constant('ack' as const), i: fc.integer({ min: 0, max: REQUESTS - 1 }) }),
  fc.record({ kind: fc.constant('answer' as const), i: fc.integer({ min: 0, max: REQUESTS - 1 }) }),
  fc.record({ kind: fc.constant('linkLost' as const), node: fc.integer({ min: 0, max: 1 }) }),
  fc.record({ kind: fc.constant('dead' as const), node: fc.integer({ min: 0, max: 1 }) }),
);

describe('agents awaiting agents of other nodes, random schedules', () => {
  it('every request ends with exactly one answer once its node is dead and its link reported; never two', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const directory = new LocalAgentDirectory('n1');
        const agents = new FakeAgents();
        for (const s of SENDERS) {
          directory.upsert(s, 'n1', []);
          agents.add(s);
        }
        for (const [r, n] of Object.entries(RECEIVERS)) directory.upsert(r, n, []);
        // The link's view: messages written and not acknowledged, per node.
        const unacked = new Map<string, Set<number>>(NODES.map((n) => [n, new Set<number>()]));
        const awaits = new RemoteAwaits({ maxEntries: 1_000, ttlMs: 60_000, now: () => 0 });
        const router = new Router({
          directory,
          localAgents: agents,
          clients: new ClientInbox(),
          deadLetters: new FakeDeadLetters(),
          remote: { send: () => 'queued' },
          remoteAwaits: awaits,
        });
        const events = new EventBus();
        answerWaitsOnDeath({ events, inbox: new ClientInbox(), agents: { router, awaits, directory, nodeId: 'n1' } });
        const requests: (AclMessage | undefined)[] = new Array(REQUESTS).fill(undefined);
        const receiverOf = (i: number) => (i % 2 === 0 ? 'b' : 'c');
        const nodeOf = (i: number) => RECEIVERS[receiverOf(i)];
        const dead = new Set<string>();
        const answered = new Set<number>();
        const lost = new Set<number>();
        const linkLost = (node: string) => {
          for (const i of unacked.get(node)!) {
            lost.add(i);
            router.reportUndelivered(requests[i]!, receiverOf(i), 'LINK_LOST', 'lost');
          }
          unacked.get(node)!.clear();
        };
        for (const o of ops) {
          if (o.kind === 'send') {
            if (requests[o.i] !== undefined || dead.has(nodeOf(o.i))) continue; // a dead node gets NODE_UNREACHABLE at once
            const m: AclMessage = { performative: 'request', sender: SENDERS[o.i % 2], receiver: receiverOf(o.i), conversation_id: `c${o.i % 3}`, message_id: `m${o.i}` };
            requests[o.i] = m;
            router.route(m);
            unacked.get(nodeOf(o.i))!.add(o.i);
          } else if (o.kind === 'ack') {
            if (!dead.has(nodeOf(o.i))) unacked.get(nodeOf(o.i))!.delete(o.i); // a dead node acknowledges nothing
          } else if (o.kind === 'answer') {
            const m = requests[o.i];
            // Only a live receiver holding the message (acknowledged) answers, once.
            if (!m || dead.has(nodeOf(o.i)) || unacked.get(nodeOf(o.i))!.has(o.i) || lost.has(o.i) || answered.has(o.i)) continue;
            answered.add(o.i);
            router.deliverFromPeer({ performative: 'inform', sender: receiverOf(o.i), receiver: m.sender, conversation_id: m.conversation_id, message_id: `r${o.i}`, in_reply_to: m.message_id }, m.sender);
          } else if (o.kind === 'linkLost') {
            linkLost(NODES[o.node]);
          } else {
            dead.add(NODES[o.node]);
            events.publish('member', { id: NODES[o.node], state: 'dead' });
          }
          const counts = answersPer(agents);
          for (const n of counts.values()) expect(n).toBe(1);
        }
        // The end of every schedule: both nodes die and their links report what they still held.
        for (const n of NODES) {
          events.publish('member', { id: n, state: 'dead' });
          linkLost(n);
        }
        const counts = answersPer(agents);
        for (let i = 0; i < REQUESTS; i++) if (requests[i]) expect(counts.get(`m${i}`), `m${i}`).toBe(1);
      }),
      fuzzParameters(),
    );
  });
});

/** Answers each local sender was handed, by the message they answer. */
function answersPer(agents: FakeAgents): Map<string, number> {
  const counts = new Map<string, number>();
  for (const s of SENDERS) for (const m of agents.mailbox(s)) if (m.in_reply_to) counts.set(m.in_reply_to, (counts.get(m.in_reply_to) ?? 0) + 1);
  return counts;
}
