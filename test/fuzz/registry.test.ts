// Fuzz of the registry's decoders and merge (issue 9): whatever bytes a peer gossips or sends as push-pull
// state, nothing throws, and whatever is accepted is a valid record (checked against the registry's bounds).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recordProblem } from '../../src/cluster/registry/agent-record.ts';
import { AgentRegistry } from '../../src/cluster/registry/agent-registry.ts';
import { decodeStamp, decodeState, decodeUpdate, encodeStamp, encodeUpdate } from '../../src/cluster/registry/registry-codec.ts';
import { RegistryGossip } from '../../src/cluster/registry/registry-gossip.ts';
import { eventLoopBreather, fuzzParameters, fuzzTimeoutMs } from './fuzz-runs.ts';
import { recordOf } from '../cluster/registry/records.ts';

const HEADER_UPDATE = [0xca, 3];
const HEADER_STATE = [0xca, 4];
const HEADER_STAMP = [0xca, 5];

function fresh(): { registry: AgentRegistry; gossip: RegistryGossip; sent: Uint8Array[] } {
  const registry = new AgentRegistry({ nodeId: 'me', now: () => 0, maxRecords: 100, tombstoneTtlMs: 1000 });
  const sent: Uint8Array[] = [];
  const gossip = new RegistryGossip(registry, () => ({ maxUserPayloadBytes: 1390, sendUser: (p) => void sent.push(p) }));
  return { registry, gossip, sent };
}

/** Valid updates, cut, with bytes flipped, or followed by junk. */
const mutatedUpdate = fc
  .tuple(
    fc.constantFrom('a', 'b-1', 'x.y'),
    fc.integer({ min: 1, max: 2 ** 40 }),
    fc.constantFrom('n1', 'me', 'x'.repeat(300)),
    fc.boolean(),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
    fc.nat(),
  )
  .map(([name, lamport, writer, tombstone, flips, cut]) => {
    const bytes = encodeUpdate({ name, lamport, writer, record: tombstone ? null : recordOf(name, writer, { tools: ['a/b'] }) });
    for (const [at, value] of flips) bytes[at % bytes.length] = value;
    return bytes.subarray(0, cut % (bytes.length + 1));
  });

/** Valid stamps (when a write was made), cut or with bytes flipped. */
const mutatedStamp = fc
  .tuple(
    fc.constantFrom('a', 'b-1', 'x.y'),
    fc.integer({ min: 1, max: 2 ** 40 }),
    fc.constantFrom('n1', 'me', 'x'.repeat(300)),
    fc.double({ noNaN: false }),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
    fc.nat(),
  )
  .map(([name, lamport, writer, writtenAtMs, flips, cut]) => {
    const bytes = encodeStamp({ name, lamport, writer, writtenAtMs });
    for (const [at, value] of flips) bytes[at % bytes.length] = value;
    return bytes.subarray(0, cut % (bytes.length + 1));
  });

const garbage = fc.uint8Array({ maxLength: 300 }).map((b) => b);
const headed = (header: number[]) => fc.uint8Array({ maxLength: 300 }).map((b) => Uint8Array.from([...header, ...b]));
/** MessagePack nested as deep as the bytes allow: fixarray of one, N times. */
const deep = fc.integer({ min: 1, max: 100_000 }).map((n) => Uint8Array.from([...HEADER_STATE, ...new Array<number>(n).fill(0x91), 0xc0]));

describe('registry decoders under garbage', () => {
  it('gossip updates: never throw; what is accepted is valid', () => {
    fc.assert(
      fc.property(fc.oneof(garbage, headed(HEADER_UPDATE), mutatedUpdate), (payload) => {
        const { registry, gossip } = fresh();
        const entry = decodeUpdate(payload);
        if (entry?.record) expect(recordProblem(entry.record)).toBeUndefined();
        gossip.notifyMessage(payload);
        for (const record of registry.list()) expect(recordProblem(record)).toBeUndefined();
      }),
      fuzzParameters(),
    );
  }, fuzzTimeoutMs());

  it('gossip stamps: never throw; what is accepted is bounded; an update and its stamp in any order', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(garbage, headed(HEADER_STAMP), mutatedStamp, mutatedUpdate), { maxLength: 6 }), (payloads) => {
        const { registry, gossip } = fresh();
        const samples: number[] = [];
        gossip.onConvergence((ms) => samples.push(ms));
        for (const payload of payloads) {
          const stamp = decodeStamp(payload);
          if (stamp) expect(Number.isFinite(stamp.writtenAtMs) && stamp.writtenAtMs >= 0).toBe(true);
          gossip.notifyMessage(payload);
        }
        for (const record of registry.list()) expect(recordProblem(record)).toBeUndefined();
        for (const ms of samples) expect(Number.isFinite(ms) && ms >= 0).toBe(true);
      }),
      fuzzParameters(),
    );
  }, fuzzTimeoutMs());

  it('push-pull states: never throw, even nested deep; what is merged is valid', async () => {
    const breathe = eventLoopBreather();
    await fc.assert(
      fc.asyncProperty(fc.oneof(garbage, headed(HEADER_STATE), deep), async (state) => {
        await breathe();
        const { registry, gossip } = fresh();
        expect(() => decodeState(state)).not.toThrow();
        gossip.mergeRemoteState(state);
        for (const record of registry.list()) expect(recordProblem(record)).toBeUndefined();
      }),
      fuzzParameters(),
    );
  }, fuzzTimeoutMs(10)); // a fresh registry per input and states of up to thousands of entries: ~1.5 ms each quiet, 5.4 ms beside other work
});
