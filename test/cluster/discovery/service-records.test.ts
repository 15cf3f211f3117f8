// What a node advertises on mDNS and what it reads from answers, through dns-packet's real encoding.
import dnsPacket, { type Answer } from 'dns-packet';
import { describe, expect, it } from 'vitest';
import {
  advertisedRecords,
  asksForUs,
  instanceLabel,
  MAX_RECORDS_READ,
  peersInAnswer,
  serviceName,
  type Advertisement,
} from '../../../src/cluster/discovery/service-records.ts';

const ad: Advertisement = { cluster: 'prod', node: 'n1', gossip: { host: '10.0.0.1', port: 7946 }, info: 'Caxton' };
const wire = (answers: Answer[], additionals: Answer[] = []): unknown =>
  dnsPacket.decode(dnsPacket.encode({ type: 'response', flags: dnsPacket.AUTHORITATIVE_ANSWER, answers, additionals }));

describe('advertised records', () => {
  it("use Serf's service name and read back as the gossip address", () => {
    expect(serviceName('prod')).toBe('_serf_prod._tcp.local');
    const records = advertisedRecords(ad);
    expect(records.map((r) => r.type)).toEqual(['PTR', 'SRV', 'TXT', 'A']);
    expect(peersInAnswer(wire(records), 'prod', 8)).toEqual([{ host: '10.0.0.1', port: 7946 }]);
  });

  it('carry an IPv6 gossip address in an AAAA record', () => {
    const v6 = { ...ad, gossip: { host: 'fd00::1', port: 7000 } };
    expect(advertisedRecords(v6).at(-1)).toMatchObject({ type: 'AAAA', data: 'fd00::1' });
    expect(peersInAnswer(wire(advertisedRecords(v6)), 'prod', 8)).toEqual([{ host: 'fd00::1', port: 7000 }]);
  });

  it('make any node id one DNS label', () => {
    expect(instanceLabel('node.1 of "rack"')).toBe('node-1-of--rack-');
    expect(instanceLabel('x'.repeat(100))).toHaveLength(63);
    expect(instanceLabel('')).toBe('caxton');
    expect(() => dnsPacket.encode({ type: 'response', answers: advertisedRecords({ ...ad, node: 'ü'.repeat(200) }) })).not.toThrow();
  });
});

describe('peersInAnswer', () => {
  it('reads an answer shaped as Serf sends it (host-name target, records of one node)', () => {
    const instance = 'serf1._serf_prod._tcp.local';
    const answers: Answer[] = [
      { name: '_serf_prod._tcp.local', type: 'PTR', ttl: 120, data: instance },
      { name: instance, type: 'SRV', ttl: 120, data: { port: 7946, target: 'myhost.' } },
      { name: 'myhost', type: 'A', ttl: 120, data: '10.0.0.7' },
      { name: instance, type: 'TXT', ttl: 120, data: ["Serf 'prod' cluster"] },
    ];
    expect(peersInAnswer(wire(answers), 'prod', 8)).toEqual([{ host: '10.0.0.7', port: 7946 }]);
  });

  it('takes an announcement without PTR, the address from the additional section, and any case', () => {
    const answers: Answer[] = [{ name: 'N2._SERF_PROD._TCP.LOCAL', type: 'SRV', ttl: 120, data: { port: 7000, target: 'Host2.local' } }];
    const additionals: Answer[] = [{ name: 'host2.local', type: 'A', ttl: 120, data: '10.0.0.2' }];
    expect(peersInAnswer(wire(answers, additionals), 'prod', 8)).toEqual([{ host: '10.0.0.2', port: 7000 }]);
  });

  it('ignores other clusters, other services, goodbyes and records without an address', () => {
    expect(peersInAnswer(wire(advertisedRecords({ ...ad, cluster: 'other' })), 'prod', 8)).toEqual([]);
    expect(peersInAnswer(wire(advertisedRecords(ad, 0)), 'prod', 8)).toEqual([]);
    const noAddress: Answer[] = [{ name: 'n._serf_prod._tcp.local', type: 'SRV', ttl: 120, data: { port: 1, target: 'h.local' } }];
    expect(peersInAnswer(wire(noAddress), 'prod', 8)).toEqual([]);
    const lookalike: Answer[] = [
      { name: 'n._serf_prod._tcp.local.evil', type: 'SRV', ttl: 120, data: { port: 1, target: 'h.local' } },
      { name: '_serf_prod._tcp.local', type: 'SRV', ttl: 120, data: { port: 2, target: 'h.local' } },
      { name: 'h.local', type: 'A', ttl: 120, data: '10.0.0.1' },
    ];
    expect(peersInAnswer(wire(lookalike), 'prod', 8)).toEqual([]);
  });

  it('bounds what it reads and returns', () => {
    const answers: Answer[] = [];
    for (let i = 0; i < 200; i++) {
      answers.push({ name: `n${i}._serf_prod._tcp.local`, type: 'SRV', ttl: 120, data: { port: 7946, target: `h${i}.local` } });
      answers.push({ name: `h${i}.local`, type: 'A', ttl: 120, data: `10.0.${i >> 8}.${i & 255}` });
    }
    expect(peersInAnswer(wire(answers), 'prod', 8)).toHaveLength(8);
    expect(peersInAnswer(wire(answers), 'prod', 1000).length).toBeLessThanOrEqual(MAX_RECORDS_READ / 2);
  });

  it('survives packets that are not what they claim', () => {
    for (const junk of [null, undefined, 1, 'x', [], {}, { answers: 'x' }, { answers: [null, 1, { type: 'SRV' }, { type: 'SRV', name: 'a._serf_prod._tcp.local', data: null }] }]) {
      expect(peersInAnswer(junk, 'prod', 8)).toEqual([]);
    }
    const badPort = { answers: [{ type: 'SRV', name: 'a._serf_prod._tcp.local', data: { port: 70000, target: 'h' } }, { type: 'A', name: 'h', data: '1.2.3.4' }] };
    expect(peersInAnswer(badPort, 'prod', 8)).toEqual([]);
    const badAddress = { answers: [{ type: 'SRV', name: 'a._serf_prod._tcp.local', data: { port: 1, target: 'h' } }, { type: 'A', name: 'h', data: 'fd00::1' }] };
    expect(peersInAnswer(badAddress, 'prod', 8)).toEqual([]);
  });
});

describe('asksForUs', () => {
  const query = (name: string, type: string): unknown => ({ type: 'query', questions: [{ name, type, class: 'IN' }] });

  it("answers Serf's query and follow-ups for our instance and host", () => {
    expect(asksForUs(query('_serf_prod._tcp.local', 'PTR'), ad)).toBe(true);
    expect(asksForUs(query('_SERF_PROD._tcp.local', 'ANY'), ad)).toBe(true);
    expect(asksForUs(query('n1._serf_prod._tcp.local', 'PTR'), ad)).toBe(true);
    expect(asksForUs(query('n1.local', 'A'), ad)).toBe(true);
  });

  it('ignores everything else', () => {
    expect(asksForUs(query('_serf_other._tcp.local', 'PTR'), ad)).toBe(false);
    expect(asksForUs(query('_serf_prod._tcp.local', 'A'), ad)).toBe(false);
    expect(asksForUs(query('_http._tcp.local', 'PTR'), ad)).toBe(false);
    for (const junk of [null, {}, { questions: 'x' }, { questions: [null, 1, { name: 5 }] }]) expect(asksForUs(junk, ad)).toBe(false);
  });
});
