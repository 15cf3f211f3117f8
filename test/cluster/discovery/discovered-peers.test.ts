import { describe, expect, it } from 'vitest';
import { DiscoveredPeers } from '../../../src/cluster/discovery/discovered-peers.ts';
import { isOnLink } from '../../../src/cluster/discovery/on-link.ts';
import { multicastInterfaceFor } from '../../../src/cluster/discovery/mdns-discovery.ts';
import type { NetworkInterfaceInfo } from 'node:os';

const a = (n: number) => ({ host: `10.0.0.${n}`, port: 7946 });

describe('DiscoveredPeers', () => {
  it('skips known addresses (ourselves, live members) and tries each other one once per period', () => {
    const peers = new DiscoveredPeers({ capacity: 10, retryAfterMs: 1000 });
    const known = (x: { host: string }) => x.host === '10.0.0.1';
    expect(peers.toJoin([a(1), a(2), a(3)], 0, known)).toEqual([a(2), a(3)]);
    expect(peers.toJoin([a(2), a(3)], 999, known)).toEqual([]);
    expect(peers.toJoin([a(2)], 1000, known)).toEqual([a(2)]);
    expect(peers.toJoin([a(3), a(4)], 1001, known)).toEqual([a(3), a(4)]);
  });

  it('remembers at most its capacity, forgetting the longest untried', () => {
    const peers = new DiscoveredPeers({ capacity: 3, retryAfterMs: 1_000_000 });
    peers.toJoin([a(1), a(2), a(3), a(4), a(5)], 0, () => false);
    expect(peers.size).toBe(3);
    // 1 and 2 were forgotten, so they are offered again; 5 is still remembered.
    expect(peers.toJoin([a(1), a(5)], 1, () => false)).toEqual([a(1)]);
  });
});

describe('isOnLink', () => {
  const info = (address: string, cidr: string, internal = false): NetworkInterfaceInfo =>
    ({ address, cidr, family: 'IPv4', internal, netmask: '', mac: '' }) as NetworkInterfaceInfo;
  const interfaces = { lo: [info('127.0.0.1', '127.0.0.1/8', true)], eth0: [info('10.1.2.3', '10.1.2.3/24')] };

  it('accepts sources on an attached network only', () => {
    expect(isOnLink('10.1.2.200', interfaces)).toBe(true);
    expect(isOnLink('127.5.5.5', interfaces)).toBe(true);
    expect(isOnLink('10.1.3.1', interfaces)).toBe(false);
    expect(isOnLink('8.8.8.8', interfaces)).toBe(false);
    expect(isOnLink('fe80::1', interfaces)).toBe(false);
    expect(isOnLink('not an address', interfaces)).toBe(false);
  });

  it('picks the bind address as the multicast interface only when it is a local non-loopback IPv4', () => {
    expect(multicastInterfaceFor('10.1.2.3', interfaces)).toBe('10.1.2.3');
    expect(multicastInterfaceFor('127.0.0.1', interfaces)).toBeUndefined();
    expect(multicastInterfaceFor('0.0.0.0', interfaces)).toBeUndefined();
    expect(multicastInterfaceFor('10.9.9.9', interfaces)).toBeUndefined();
  });
});
