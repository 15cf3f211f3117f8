// The standby copies of failover (src/node/failover-modules.ts) with an injected peer: a module is fetched
// ahead from its live owner once, and one it could not keep (larger than the whole standby budget) is not
// downloaded again at every check, however many such modules the registry names.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AgentRecord } from '../../src/cluster/registry/agent-record.ts';
import type { FailoverContext, FailoverOptions } from '../../src/node/failover-context.ts';
import { TakeOverModules } from '../../src/node/failover-modules.ts';
import { sha256Hex } from '../../src/state/module-store.ts';

/** A module of `size` bytes, distinct per `seed`, and its sha256. */
function moduleOf(seed: number, size: number): { sha: string; bytes: Uint8Array } {
  const bytes = new Uint8Array(size);
  new DataView(bytes.buffer).setUint32(0, seed);
  return { sha: sha256Hex(bytes), bytes };
}

const recordOn = (name: string, node: string, sha: string): AgentRecord => ({
  name,
  node,
  version: 1,
  module_sha256: sha,
  capabilities: [],
  state: 'running',
  limits: { memory_pages: 16, fuel: 1000, mailbox: 8 },
});

/**
 * This node ('self') and one live peer ('owner') that runs every agent: with only the two, 'self' would take
 * every agent over, so it wants every module ahead. The peer serves each module's bytes and counts them.
 */
function standbyWith(moduleCount: number, moduleBytes: number, budgetBytes: number, maxTooLarge?: number) {
  const served = new Map<string, Uint8Array>();
  const records: AgentRecord[] = [];
  for (let i = 0; i < moduleCount; i++) {
    const { sha, bytes } = moduleOf(i, moduleBytes);
    served.set(sha, bytes);
    records.push(recordOn(`agent-${i}`, 'owner', sha));
  }
  const fetched: string[] = [];
  const warnings: string[] = [];
  const options = {
    nodeId: 'self',
    members: () => [
      { id: 'self', state: 'alive', placeable: true },
      { id: 'owner', state: 'alive', placeable: true },
    ],
    modules: { get: () => undefined, has: () => false },
    fetchModule: async (_node: string, sha: string) => {
      fetched.push(sha);
      const bytes = served.get(sha);
      if (bytes === undefined) throw new Error('no such module');
      return bytes;
    },
    settings: { checkIntervalMs: 1000, standbyModuleBytes: budgetBytes, takeOverConcurrency: 1, moduleFetchTimeoutMs: 1000 },
    logger: { ...pino({ level: 'silent' }), warn: (data: object, message: string) => warnings.push(message), debug: () => {} },
  } as unknown as FailoverOptions;
  const context: FailoverContext = {
    options,
    now: () => 0,
    busy: new Set(),
    stats: { takenOver: 0, yielded: 0, reclaimed: 0, takeOverFailures: 0, standbyModules: 0, standbyBytes: 0 },
    warn: () => {},
    closed: () => false,
  };
  const modules = maxTooLarge === undefined ? new TakeOverModules(context, () => {}) : new TakeOverModules(context, () => {}, maxTooLarge);
  /** One check's keep, and the fetches it started settled. */
  const check = async (): Promise<void> => {
    modules.keep(['self', 'owner'], records);
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { modules, fetched, check, records, warnings };
}

/** `n` checks one after the other, each with its fetches settled. */
async function checks(check: () => Promise<void>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await check();
}

describe('failover standby modules', () => {
  it('a module larger than the standby budget is downloaded once, not again at each check, past 1,024 of them', async () => {
    // Before: the modules known too large stopped at 1,024; the 1,025th and 1,026th were downloaded again at
    // every check (the two fetches at a time), and the ones after them never.
    const count = 1030;
    const { fetched, check } = standbyWith(count, 64, 32);
    await checks(check, count);
    expect(fetched.length).toBe(count);
    expect(new Set(fetched).size).toBe(count);
    await checks(check, 50);
    expect(fetched.length).toBe(count);
  });

  it('with more oversized modules wanted than it remembers, it stops fetching ahead rather than downloading again', async () => {
    const count = 40;
    const { modules, fetched, check, warnings } = standbyWith(count, 64, 32, 16);
    await checks(check, count + 200);
    expect(fetched.length).toBe(16);
    expect(new Set(fetched).size).toBe(fetched.length);
    expect(modules.count).toBe(0);
    // Said once, not at each of the 200 checks after.
    expect(warnings.filter((w) => w.includes('nothing more is fetched ahead'))).toHaveLength(1);
  });

  it('modules wanted past the budget are each downloaded once, not one pushed out and fetched again at each check', async () => {
    // Three modules of 20 bytes for a budget of 50: two are held, the third was downloaded again at every
    // check, pushing out another (101 downloads in 100 checks before).
    const { modules, fetched, check } = standbyWith(3, 20, 50);
    await checks(check, 100);
    expect(fetched.length).toBe(3);
    expect(modules.count).toBe(2);
    expect(modules.bytes).toBe(40);
  });

  it('a module pushed out for room is fetched again once a held one is no longer wanted', async () => {
    const { modules, fetched, check, records } = standbyWith(3, 20, 50);
    await checks(check, 10);
    expect(fetched.length).toBe(3);
    const pushedOut = fetched[0]!;
    // Another module held is no longer wanted (its agent was deleted): room for the one pushed out.
    const gone = records.findIndex((r) => r.module_sha256 === fetched[1]);
    records.splice(gone, 1);
    await checks(check, 10);
    expect(fetched.slice(3)).toEqual([pushedOut]);
    expect(modules.count).toBe(2);
  });
});
