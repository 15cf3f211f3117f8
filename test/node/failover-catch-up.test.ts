// The catch-up of a member back from gone (src/node/failover-catch-up.ts), through a node's failover with
// injected members and a real registry: a member suspected again between its return and the hand-over keeps
// its catch-up, and is handed this node's writes made while it was gone once it is alive again.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AgentService } from '../../src/node/agent-service.ts';
import { EventBus } from '../../src/node/event-bus.ts';
import { Failover, type FailoverMember } from '../../src/node/failover.ts';
import { ObservedAgentDirectory } from '../../src/node/registry-binding.ts';
import { closedAfterEach, record, registryOf } from './fixtures/failover.ts';

const open = closedAfterEach();

/** Lets the scheduled check run and the hand-overs it starts settle. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** Node 'a' of a, b, c, d (all alive), handing its writes to d's registry when d's link is up. */
function cluster() {
  const view: FailoverMember[] = ['a', 'b', 'c', 'd'].map((id) => ({ id, state: 'alive', placeable: true }));
  const registry = registryOf('a');
  const d = registryOf('d');
  const link = { up: true, attempts: 0 };
  const failover = new Failover({
    nodeId: 'a',
    registry,
    members: () => view,
    quorum: () => ({ alive: 4, expected: 4, quorum: 3, mode: 'read-write' }),
    agents: {} as AgentService,
    runsHere: () => false,
    localNames: () => [],
    directory: new ObservedAgentDirectory('a'),
    modules: { get: () => undefined, has: () => false },
    fetchModule: async () => {
      throw new Error('no modules here');
    },
    ping: async () => true,
    republish: () => {},
    pushEntries: async (node, entries) => {
      expect(node).toBe('d');
      link.attempts += 1;
      if (!link.up) throw new Error('routing link backing off');
      for (const payload of entries) d.receiveUpdate(payload);
    },
    events: new EventBus(),
    settings: { checkIntervalMs: 60_000, standbyModuleBytes: 0, takeOverConcurrency: 1, moduleFetchTimeoutMs: 1000 },
    logger: pino({ level: 'silent' }),
  });
  open.push(failover);
  /** d's state in a's view, and the event a's failover gets for it (as cluster-wiring publishes it). */
  const dIs = (state: FailoverMember['state']): void => {
    view.find((m) => m.id === 'd')!.state = state;
    failover.memberChanged('d', state);
  };
  return { registry, d, link, dIs };
}

describe('failover catch-up of a member back from gone', () => {
  it('suspected again before the next check, it is handed this node\'s writes once alive again', async () => {
    const { registry, d, link, dIs } = cluster();
    dIs('dead');
    await settle();
    // Written while d was gone (a take-over's record, say).
    registry.publish(record('x', 'a'));
    dIs('alive');
    // Suspected again before the check its return scheduled (a link still settling after the cut).
    dIs('suspect');
    await settle();
    expect(d.get('x')).toBeUndefined();
    dIs('alive');
    await settle();
    expect(link.attempts).toBeGreaterThan(0);
    expect(d.get('x')?.node).toBe('a');
  });

  it('suspected while its hand-over is refused, it is handed this node\'s writes once alive again', async () => {
    const { registry, d, link, dIs } = cluster();
    dIs('dead');
    await settle();
    registry.publish(record('x', 'a'));
    link.up = false;
    dIs('alive');
    await settle();
    expect(link.attempts).toBe(1);
    dIs('suspect');
    await settle();
    link.up = true;
    dIs('alive');
    await settle();
    expect(d.get('x')?.node).toBe('a');
  });

  it('a member only suspected, never gone, is handed nothing', async () => {
    const { registry, link, dIs } = cluster();
    dIs('suspect');
    registry.publish(record('x', 'a'));
    dIs('alive');
    await settle();
    expect(link.attempts).toBe(0);
  });
});
