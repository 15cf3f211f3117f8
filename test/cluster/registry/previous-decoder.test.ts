// A node of the previous version (the frozen copies in ./previous/) in a cluster with nodes of this one:
// the registry update bytes are unchanged, so it applies and relays them as before; the new stamp message
// (when a write was made, for the convergence figure) is a payload kind it does not know, which it drops
// without harm. The two encodings that would have been simpler, a trailer after the entry or a fifth entry
// field, are shown to make it drop the whole update: why the stamp travels apart.
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodePayload } from '../../../src/cluster/caxton-payload.ts';
import { AgentRegistry } from '../../../src/cluster/registry/agent-registry.ts';
import { decodeStamp, encodeStamp, encodeUpdate } from '../../../src/cluster/registry/registry-codec.ts';
import { RegistryGossip } from '../../../src/cluster/registry/registry-gossip.ts';
import { AgentRegistry as PreviousRegistry } from './previous/agent-registry.ts';
import { decodeState as previousDecodeState, decodeUpdate as previousDecodeUpdate } from './previous/registry-codec.ts';
import { RegistryGossip as PreviousGossip } from './previous/registry-gossip.ts';
import { recordOf } from './records.ts';

const options = (nodeId: string) => ({ nodeId, now: () => 0, maxRecords: 100, tombstoneTtlMs: 1000 });

function currentNode(nodeId: string, now: () => number = () => 1_000) {
  const registry = new AgentRegistry(options(nodeId));
  const sent: Uint8Array[] = [];
  const gossip = new RegistryGossip(registry, () => ({ maxUserPayloadBytes: 1390, sendUser: (p) => void sent.push(p) }), {}, now);
  const samples: number[] = [];
  gossip.onConvergence((ms) => samples.push(ms));
  return { registry, gossip, sent, samples };
}

function previousNode(nodeId: string) {
  const registry = new PreviousRegistry(options(nodeId));
  const sent: Uint8Array[] = [];
  const gossip = new PreviousGossip(registry, () => ({ maxUserPayloadBytes: 1390, sendUser: (p) => void sent.push(p) }));
  return { registry, gossip, sent };
}

describe('registry stamps beside nodes of the previous version', () => {
  it('a write gossips the same update bytes as before, then a stamp of its own kind', () => {
    const a = currentNode('a');
    a.registry.publish(recordOf('echo', 'a'));
    expect(a.sent).toHaveLength(2);
    const [update, stamp] = a.sent;
    expect(Buffer.from(update)).toEqual(Buffer.from(encodeUpdate({ name: 'echo', lamport: 1, writer: 'a', record: recordOf('echo', 'a') })));
    expect(previousDecodeUpdate(update)).toEqual({ name: 'echo', lamport: 1, writer: 'a', record: recordOf('echo', 'a') });
    expect(decodeStamp(stamp)).toEqual({ name: 'echo', lamport: 1, writer: 'a', writtenAtMs: 1_000 });
  });

  it('a previous node applies and relays the update and drops the stamp: no error, nothing relayed for it', () => {
    const a = currentNode('a');
    a.registry.publish(recordOf('echo', 'a'));
    a.registry.withdraw('echo');
    a.registry.publish(recordOf('other', 'a', { failover: 'wait', tools: ['fs/read'] }));
    const old = previousNode('old');
    const kinds: number[] = [];
    for (const payload of a.sent) {
      kinds.push(payload[1]);
      const ours = old.gossip.notifyMessage(payload);
      // The cluster service hands what the registry did not take to the key rotation, which decodes JSON.
      if (!ours) expect(decodePayload(payload)).toBeUndefined();
      expect(ours).toBe(payload[1] === 3);
    }
    expect(kinds).toEqual([3, 5, 3, 5, 3, 5]);
    expect(old.registry.get('echo')).toBeUndefined();
    expect(old.registry.deleted('echo')).toBe(true);
    expect(old.registry.get('other')).toEqual(recordOf('other', 'a', { failover: 'wait', tools: ['fs/read'] }));
    expect(old.sent.map((p) => p[1])).toEqual([3, 3, 3]);
  });

  it('push-pull state is unchanged: a previous node merges it entry for entry', () => {
    const a = currentNode('a');
    for (const name of ['x', 'y', 'z']) a.registry.publish(recordOf(name, 'a'));
    a.registry.withdraw('y');
    const decoded = previousDecodeState(a.gossip.localState());
    expect(decoded?.invalid).toBe(0);
    expect(decoded?.entries.map((e) => [e.name, e.lamport, e.record === null])).toEqual([
      ['x', 1, false],
      ['y', 4, true],
      ['z', 3, false],
    ]);
  });

  it("a previous node's updates reach a current node as before; unstamped, they are not measured", () => {
    const old = previousNode('old');
    old.registry.publish(recordOf('legacy', 'old'));
    const b = currentNode('b');
    for (const payload of old.sent) expect(b.gossip.notifyMessage(payload)).toBe(true);
    expect(b.registry.get('legacy')?.node).toBe('old');
    expect(b.samples).toEqual([]);
  });

  it('a write relayed by a previous node is still measured when its stamp comes by a current one', () => {
    let clock = 1_000;
    const a = currentNode('a', () => clock);
    a.registry.publish(recordOf('echo', 'a'));
    const [update, stamp] = a.sent;
    const old = previousNode('old');
    old.gossip.notifyMessage(update);
    old.gossip.notifyMessage(stamp);
    const b = currentNode('b', () => clock);
    clock = 1_040;
    b.gossip.notifyMessage(old.sent[0]);
    clock = 1_100;
    b.gossip.notifyMessage(stamp);
    expect(b.samples).toEqual([40]);
  });

  it('rejected encodings: a trailer after the entry, or a fifth entry field, make a previous node drop the update', () => {
    const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true });
    const entry = { name: 'echo', lamport: 1, writer: 'a', record: recordOf('echo', 'a') };
    const plain = encodeUpdate(entry);
    const trailer = Buffer.concat([plain, packr.pack(1_733_366_400_000)]);
    expect(previousDecodeUpdate(plain)).toEqual(entry);
    expect(previousDecodeUpdate(trailer)).toBeUndefined();
    const entryArray = packr.pack(['echo', 1, 'a', null, 1_733_366_400_000]);
    const withField = Buffer.concat([Buffer.from([0xca, 3]), entryArray]);
    expect(previousDecodeUpdate(withField)).toBeUndefined();
    const old = previousNode('old');
    old.gossip.notifyMessage(trailer);
    expect(old.registry.get('echo')).toBeUndefined();
    // And the stamp itself means nothing to the previous decoder.
    expect(previousDecodeUpdate(encodeStamp({ name: 'echo', lamport: 1, writer: 'a', writtenAtMs: 5 }))).toBeUndefined();
  });
});
