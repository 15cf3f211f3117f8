// The mDNS boundary of `--cluster NAME`: any datagram on UDP 5353 comes from anyone on the link. Decoded or
// not, garbled, truncated or lying, it must never throw out of the handler, and it can only ever name a
// bounded number of well-formed addresses.
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { MdnsDiscovery } from '../../src/cluster/discovery/mdns-discovery.ts';
import { advertisedRecords, asksForUs, peersInAnswer, type Advertisement } from '../../src/cluster/discovery/service-records.ts';
import type { PeerAddress } from '../../src/cluster/membership/transport.ts';
import { fuzzParameters, fuzzTimeoutMs } from './fuzz-runs.ts';

const ad: Advertisement = { cluster: 'fz', node: 'n1', gossip: { host: '10.0.0.1', port: 7946 }, info: 'Caxton' };
const valid = Buffer.from(dnsPacket.encode({ type: 'response', answers: advertisedRecords(ad) }));
const query = Buffer.from(dnsPacket.encode({ type: 'query', questions: [{ name: '_serf_fz._tcp.local', type: 'PTR' }] }));

/** Real packets garbled: bytes flipped, cut short, or random bytes appended. */
const garbled = fc.oneof(
  fc.uint8Array({ maxLength: 1500 }),
  fc.tuple(fc.constantFrom(valid, query), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat(), fc.uint8Array({ maxLength: 64 })).map(
    ([base, flips, cut, tail]) => {
      const bytes = Buffer.from(base);
      for (const [at, value] of flips) bytes[at % bytes.length] = value;
      return Buffer.concat([bytes.subarray(0, cut % (bytes.length + 1)), tail]);
    },
  ),
);

function decodeOrNull(bytes: Uint8Array): unknown {
  try {
    return dnsPacket.decode(Buffer.from(bytes));
  } catch {
    return null;
  }
}

function wellFormed(peers: PeerAddress[], limit: number): void {
  expect(peers.length).toBeLessThanOrEqual(limit);
  for (const p of peers) {
    expect(isIP(p.host)).not.toBe(0);
    expect(Number.isInteger(p.port) && p.port >= 1 && p.port <= 65535).toBe(true);
  }
}

describe('mDNS packets (pure readers)', () => {
  it('garbled datagrams never throw and name only well-formed addresses', { timeout: fuzzTimeoutMs() }, () => {
    fc.assert(
      fc.property(garbled, (bytes) => {
        const packet = decodeOrNull(bytes);
        wellFormed(peersInAnswer(packet, 'fz', 8), 8);
        asksForUs(packet, ad);
      }),
      fuzzParameters(),
    );
  });

  it('any value in place of a decoded packet never throws', { timeout: fuzzTimeoutMs() }, () => {
    const record = fc.record(
      { name: fc.oneof(fc.string(), fc.constant('n._serf_fz._tcp.local'), fc.constant('h.local'), fc.anything()), type: fc.constantFrom('SRV', 'A', 'AAAA', 'PTR', 'TXT', 5), ttl: fc.anything(), data: fc.anything() },
      { requiredKeys: [] },
    );
    const packet = fc.oneof(fc.anything(), fc.record({ answers: fc.oneof(fc.array(record, { maxLength: 100 }), fc.anything()), additionals: fc.array(record, { maxLength: 10 }), questions: fc.anything() }, { requiredKeys: [] }));
    fc.assert(
      fc.property(packet, (p) => {
        wellFormed(peersInAnswer(p, 'fz', 8), 8);
        expect(typeof asksForUs(p, ad)).toBe('boolean');
      }),
      fuzzParameters(),
    );
  });
});

describe('mDNS socket', () => {
  const discoveries: MdnsDiscovery[] = [];
  afterAll(async () => {
    for (const d of discoveries) await d.stop();
  });

  it('takes a burst of garbage and hostile answers on its port, joins only within its bounds, and still answers', { timeout: 60_000 }, async () => {
    const joined: PeerAddress[][] = [];
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const discovery = await MdnsDiscovery.start({
      cluster: 'fz',
      node: 'n1',
      version: 'test',
      gossip: { host: '127.0.0.1', port: 7946 },
      // Loopback only: the test sends nothing to the network.
      multicastInterface: '127.0.0.1',
      intervalMs: 60_000,
      join: async (addresses) => {
        joined.push(addresses);
        return addresses.length;
      },
      isMember: () => false,
      logger: { info: () => {}, warn: () => {}, debug: () => {} },
      port,
    });
    discoveries.push(discovery);
    const sender = createSocket('udp4');
    await new Promise<void>((r) => sender.bind(0, '127.0.0.1', r));
    const send = (bytes: Uint8Array) => new Promise<void>((r) => sender.send(bytes, port, '127.0.0.1', () => r()));
    const samples = fc.sample(garbled, { numRuns: 500, seed: fuzzParameters().seed });
    for (const bytes of samples) await send(bytes);
    // A hostile answer naming 200 peers, sent 20 times.
    const flood: dnsPacket.Answer[] = [];
    for (let i = 0; i < 200; i++) {
      flood.push({ name: `x${i}._serf_fz._tcp.local`, type: 'SRV', ttl: 120, data: { port: 7000 + i, target: `h${i}.local` } });
      flood.push({ name: `h${i}.local`, type: 'A', ttl: 120, data: '127.0.0.9' });
    }
    // Paced, so the kernel's receive buffer (not the code under test) is not what drops them.
    for (let i = 0; i < 20; i++) {
      await send(dnsPacket.encode({ type: 'response', answers: flood }));
      await new Promise((r) => setTimeout(r, 5));
    }
    // Still alive: a legacy unicast query from our ephemeral port gets an answer naming this node, once the
    // unicast answer budget (which garbled queries may have spent) is back.
    await new Promise((r) => setTimeout(r, 1100));
    const answer = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer to a query after the burst')), 10_000);
      sender.on('message', (m) => {
        const decoded = decodeOrNull(m);
        if ((decoded as { id?: number } | null)?.id === 4242) (clearTimeout(timer), resolve(decoded));
      });
    });
    await send(dnsPacket.encode({ type: 'query', id: 4242, questions: [{ name: '_serf_fz._tcp.local', type: 'PTR' }] }));
    const reply = await answer;
    expect(peersInAnswer(reply, 'fz', 8)).toEqual([{ host: '127.0.0.1', port: 7946 }]);
    await new Promise((r) => setTimeout(r, 300));
    sender.close();
    const all = joined.flat();
    // Each distinct address once, at most a few per answer: the flood repeats the same 8.
    expect(new Set(all.map((a) => `${a.host}:${a.port}`)).size).toBe(all.length);
    expect(all.length).toBeLessThanOrEqual(64);
    // The flood named 200 peers 20 times: the first 8 of one answer are joined, once.
    expect(all.filter((a) => a.host === '127.0.0.9')).toHaveLength(8);
    for (const batch of joined) expect(batch.length).toBeLessThanOrEqual(64);
  });
});
