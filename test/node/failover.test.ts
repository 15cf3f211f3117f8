// Failover on a node (src/node/failover.ts) with the real registry and directory and a fake agent service:
// the heal cases the 3|2 partition test met now and then (test/e2e/partition-netns.test.ts).
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AgentService } from '../../src/node/agent-service.ts';
import { EventBus } from '../../src/node/event-bus.ts';
import { Failover, type FailoverMember } from '../../src/node/failover.ts';
import { ObservedAgentDirectory } from '../../src/node/registry-binding.ts';
import { closedAfterEach, record, registryOf } from './fixtures/failover.ts';

const open = closedAfterEach();

/** Node `self` running `runs`, with `members` as its membership view (mutable). */
function nodeWith(self: string, runs: string[], members: FailoverMember[], extra: { pushEntries?: (node: string, entries: Uint8Array[]) => Promise<void> } = {}) {
  const registry = registryOf(self);
  const directory = new ObservedAgentDirectory(self);
  const runtime = new Set(runs);
  const deleted: string[] = [];
  const republished: string[] = [];
  for (const name of runs) {
    directory.upsert(name, self, []);
    registry.publish(record(name, self));
  }
  const agents = {
    delete: async (name: string) => {
      directory.remove(name);
      runtime.delete(name);
      deleted.push(name);
    },
    relinquish: async (name: string) => void runtime.delete(name),
    adopt: async () => {
      throw new Error('no take-over in these tests');
    },
  } as unknown as AgentService;
  const failover = new Failover({
    nodeId: self,
    registry,
    members: () => members,
    quorum: () => {
      const alive = members.filter((m) => m.state === 'alive').length;
      return { alive, expected: members.length, quorum: Math.floor(members.length / 2) + 1, mode: alive > members.length / 2 ? 'read-write' : 'read-only' };
    },
    agents,
    runsHere: (name) => runtime.has(name),
    localNames: () => [...runtime],
    directory,
    modules: { get: () => undefined, has: () => false },
    fetchModule: async () => {
      throw new Error('no modules here');
    },
    ping: async () => true,
    republish: (name) => {
      republished.push(name);
      registry.publish(record(name, self));
    },
    pushEntries: extra.pushEntries ? (node, entries) => extra.pushEntries!(node, entries) : undefined,
    events: new EventBus(),
    settings: { checkIntervalMs: 60_000, standbyModuleBytes: 0, takeOverConcurrency: 1, moduleFetchTimeoutMs: 1000 },
    logger: pino({ level: 'silent' }),
  });
  open.push(failover);
  return { registry, directory, runtime, deleted, republished, failover };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

describe('failover on a node, healing', () => {
  it('an agent deleted elsewhere while this node was away goes here too, even when the deletion is older than this node\'s clock', async () => {
    const view: FailoverMember[] = ['a', 'b', 'c'].map((id) => ({ id, state: 'alive', placeable: true }));
    // "waiter" was deployed here early (Lamport 1); this node wrote a lot since (its clock is well past 5).
    const a = nodeWith('a', ['waiter', ...Array.from({ length: 9 }, (_, i) => `busy-${i}`)], view);
    a.failover.check();
    await settle();
    expect(a.registry.stats().lamport).toBeGreaterThan(5);
    // The majority deleted it at its Lamport time 5: newer than this node's write of it, older than its clock.
    expect(a.registry.merge({ name: 'waiter', lamport: 5, writer: 'b', record: null })).toBe(true);
    expect(a.registry.deleted('waiter')).toBe(true);
    a.failover.check();
    await settle();
    expect(a.deleted).toEqual(['waiter']);
    expect(a.runtime.has('waiter')).toBe(false);
  });

  it('a node that runs an agent its registry places on a node it sees gone does not claim it without quorum', async () => {
    // A minority node (2 of 5) hears the majority's take-over record before it sees the majority alive again.
    const view: FailoverMember[] = [
      { id: 'd', state: 'alive', placeable: true },
      { id: 'e', state: 'alive', placeable: true },
      { id: 'a', state: 'dead', placeable: true },
      { id: 'b', state: 'dead', placeable: true },
      { id: 'c', state: 'dead', placeable: true },
    ];
    const d = nodeWith('d', ['x'], view);
    expect(d.registry.merge({ name: 'x', lamport: 50, writer: 'a', record: record('x', 'a') })).toBe(true);
    d.failover.check();
    await settle();
    expect(d.republished).toEqual([]);
    expect(d.registry.get('x')?.node).toBe('a');
    // Once it sees the other node alive, the pair decides: exactly one of the two keeps it.
    for (const m of view) m.state = 'alive';
    d.failover.check();
    await settle();
    expect(d.republished.length + (d.runtime.has('x') ? 0 : 1)).toBe(1);
  });

  it('a member back from gone is handed what this node wrote meanwhile, so both registries name the same node', async () => {
    const view: FailoverMember[] = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, state: 'alive', placeable: true }));
    const d = registryOf('d');
    d.publish(record('x', 'd'));
    const handed: string[] = [];
    const a = nodeWith('a', [], view, {
      pushEntries: async (node, entries) => {
        handed.push(node);
        for (const payload of entries) d.receiveUpdate(payload);
      },
    });
    a.registry.merge({ name: 'x', lamport: 1, writer: 'd', record: record('x', 'd') });
    // d is cut off; this side takes x over (as a take-over publishes it) while d keeps its copy.
    for (const id of ['d', 'e']) {
      view.find((m) => m.id === id)!.state = 'dead';
      a.failover.memberChanged(id, 'dead');
    }
    a.runtime.add('x');
    a.directory.upsert('x', 'a', []);
    a.registry.publish(record('x', 'a'));
    expect(d.get('x')?.node).toBe('d');
    // Healed: d is back in this node's view; d's registry learns x's new record at the next check, not at
    // a push-pull tens of seconds later.
    view.find((m) => m.id === 'd')!.state = 'alive';
    a.failover.memberChanged('d', 'alive');
    a.failover.check();
    await settle();
    expect(handed).toEqual(['d']);
    expect(d.get('x')?.node).toBe('a');
  });
});
