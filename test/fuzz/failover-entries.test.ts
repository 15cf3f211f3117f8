// The failover.entries peer request (src/node/failover-binding.ts mergeEntries): whatever body a peer sends,
// the handler answers a count and never throws; well-formed updates among junk are still merged.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentRegistry } from '../../src/cluster/registry/agent-registry.ts';
import { encodeUpdate } from '../../src/cluster/registry/registry-codec.ts';
import { RegistryGossip } from '../../src/cluster/registry/registry-gossip.ts';
import { mergeEntries } from '../../src/node/failover-binding.ts';
import { fuzzParameters, fuzzTimeoutMs } from './fuzz-runs.ts';

const good = encodeUpdate({
  name: 'x',
  lamport: 7,
  writer: 'b',
  record: { name: 'x', node: 'b', version: 1, module_sha256: 'ab'.repeat(32), capabilities: [], state: 'running', limits: { memory_pages: 16, fuel: 1000, mailbox: 8 } },
});

function cluster() {
  const registry = new AgentRegistry({ nodeId: 'a', now: () => 0, maxRecords: 100, tombstoneTtlMs: 1000 });
  return { registry, registryGossip: new RegistryGossip(registry, () => undefined) };
}

const junk = fc.oneof(
  fc.anything(),
  fc.uint8Array({ maxLength: 64 }),
  fc.uint8Array({ maxLength: 64 }).map((b) => Uint8Array.from([good[0], good[1], ...b])),
  fc.integer({ min: 0, max: good.length }).map((cut) => good.subarray(0, cut)),
);

describe('failover.entries bodies from a peer', () => {
  it('any body: a count, never a throw', { timeout: fuzzTimeoutMs() }, () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.record({ entries: fc.array(junk, { maxLength: 20 }) })), (body) => {
        const c = cluster();
        const taken = mergeEntries(c, body);
        expect(Number.isInteger(taken) && taken >= 0).toBe(true);
      }),
      fuzzParameters(),
    );
  });

  it('a good update among junk is merged; more than 1,000 entries are not looked at', () => {
    const c = cluster();
    expect(mergeEntries(c, { entries: [null, 'x', new Uint8Array([1, 2]), good] })).toBe(1);
    expect(c.registry.get('x')?.node).toBe('b');
    const flood = cluster();
    expect(mergeEntries(flood, { entries: [...Array.from({ length: 1000 }, () => new Uint8Array(0)), good] })).toBe(0);
    expect(flood.registry.get('x')).toBeUndefined();
  });
});
