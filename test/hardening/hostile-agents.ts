// The hostile agents of the soak test (test/fixtures/wat/hostile-*.wat): a spinner and a memory hog at the
// node's ceilings, a self-flood, a neighbour flood on `victim`, and a trap storm. hostile-load.ts's
// 'agent-driver' keeps them busy.
import { expect } from 'vitest';
import type { ApiCall } from '../helpers/api-client.ts';
import { watFixture } from '../helpers/modules.ts';

/**
 * The node the soak runs: agents share the node's main thread with the API until they run on worker threads,
 * so an invocation must be short for the honest client's P99 to stay within 5× its quiet value: a spinner at
 * max fuel holds the thread ~5 ms (max_invocation_ms), and a flood runs at most 5,000 sends/s (each send to a
 * full mailbox is a dead letter written to SQLite on the same thread: at 20,000/s the honest P99 was 4× quiet,
 * at the edge of the bound).
 */
export const HOSTILE_NODE_ENV: Record<string, string> = {
  CAXTON_AGENTS_MAX_FUEL: '10000000',
  CAXTON_AGENTS_MAX_INVOCATION_MS: '5',
  CAXTON_AGENTS_MAX_MEMORY_PAGES: '1024',
  CAXTON_AGENTS_SEND_RATE: '5000',
  CAXTON_AGENTS_SEND_BURST: '1000',
};

export async function deployHostileAgents(admin: { api: ApiCall }): Promise<void> {
  const agents: [string, string, Record<string, number>][] = [
    ['spinner', 'hostile-spinner', { fuel: 10_000_000, memory_pages: 16, mailbox: 10 }],
    ['memory-hog', 'hostile-memory-hog', { memory_pages: 1024, fuel: 1_000_000, mailbox: 10 }],
    ['self-flood', 'hostile-self-flood', { memory_pages: 16, fuel: 1_000_000, mailbox: 10 }],
    ['victim', 'hostile-trap-storm', { memory_pages: 16, fuel: 1_000_000, mailbox: 1 }],
    ['neighbour-flood', 'hostile-neighbour-flood', { memory_pages: 16, fuel: 10_000_000, mailbox: 10 }],
    ['trap-storm', 'hostile-trap-storm', { memory_pages: 16, fuel: 1_000_000, mailbox: 100 }],
  ];
  for (const [name, fixture, limits] of agents) {
    const module = await watFixture(fixture);
    const r = await admin.api('/api/v1/agents', { method: 'POST', json: { name, module: Buffer.from(module).toString('base64'), limits } });
    expect(r.status, `${name}: ${JSON.stringify(r.body)}`).toBe(201);
  }
}
