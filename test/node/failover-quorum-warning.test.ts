// The warning a failover logs when a quorum round comes back short (src/node/failover.ts): peers' registry
// writes start a round each on a side whose pings go unanswered, so the line is within a budget, the lines
// held back counted in the next.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { AgentRegistry } from '../../src/cluster/registry/agent-registry.ts';
import type { AgentService } from '../../src/node/agent-service.ts';
import { EventBus } from '../../src/node/event-bus.ts';
import { Failover, type FailoverMember } from '../../src/node/failover.ts';
import { ObservedAgentDirectory } from '../../src/node/registry-binding.ts';
import { closedAfterEach, record } from './fixtures/failover.ts';

const HELD_BACK = 'failover: take-overs held back: fewer members than the quorum answered this node';

const open = closedAfterEach();

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('failover quorum round warning', () => {
  it('a flood of peer registry writes on a side whose pings go unanswered logs the warning within a budget', async () => {
    // 'a' sees three of five alive (a quorum by its view) but no peer answers its pings (a one-way cut), and
    // runs "x", which the registry places on the dead "d": a claim, held back for a confirmation round.
    const members: FailoverMember[] = [
      { id: 'a', state: 'alive', placeable: true },
      { id: 'b', state: 'alive', placeable: true },
      { id: 'c', state: 'alive', placeable: true },
      { id: 'd', state: 'dead', placeable: true },
      { id: 'e', state: 'dead', placeable: true },
    ];
    const registry = new AgentRegistry({ nodeId: 'a', now: () => 0, maxRecords: 10_000, tombstoneTtlMs: 3_600_000 });
    const directory = new ObservedAgentDirectory('a');
    directory.upsert('x', 'a', []);
    registry.merge({ name: 'x', lamport: 50, writer: 'd', record: record('x', 'd') });
    const lines: { msg: string; suppressed?: number; answered?: number }[] = [];
    let clock = 0;
    const failover = new Failover({
      nodeId: 'a',
      registry,
      members: () => members,
      quorum: () => ({ alive: 3, expected: 5, quorum: 3, mode: 'read-write' }),
      agents: {} as AgentService,
      runsHere: (name) => name === 'x',
      localNames: () => ['x'],
      directory,
      modules: { get: () => undefined, has: () => false },
      fetchModule: async () => {
        throw new Error('no modules here');
      },
      ping: async () => false,
      republish: () => {
        throw new Error('a claim without quorum published');
      },
      events: new EventBus(),
      settings: { checkIntervalMs: 60_000, standbyModuleBytes: 0, takeOverConcurrency: 1, moduleFetchTimeoutMs: 1000 },
      logger: pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) }),
      now: () => clock,
    });
    open.push(failover);
    const heldBack = () => lines.filter((l) => l.msg === HELD_BACK);
    // A peer's writes, one per turn: each schedules a check, and each check a quorum round.
    const rounds = 300;
    for (let i = 0; i < rounds; i++) {
      registry.merge({ name: `flood-${i}`, lamport: 100 + i, writer: 'b', record: record(`flood-${i}`, 'b') });
      await turn();
      await turn();
    }
    expect(heldBack().length).toBeGreaterThan(0);
    expect(heldBack().length).toBeLessThanOrEqual(5);
    expect(heldBack()[0]).toMatchObject({ answered: 1, quorum: 3 });
    // Later, the next line says how many were held back.
    const logged = heldBack().length;
    clock += 60_000;
    registry.merge({ name: 'late', lamport: 1000, writer: 'b', record: record('late', 'b') });
    await turn();
    await turn();
    expect(heldBack().length).toBe(logged + 1);
    expect(heldBack().at(-1)!.suppressed).toBeGreaterThan(rounds - 10);
  });
});
