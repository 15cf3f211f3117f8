// Failed logins are counted per source: an IPv4 address, or an IPv6 /64 (any address of which one host may use).
import { BlockList } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sourceKeyOf } from '../../src/api/source-key.ts';

describe('sourceKeyOf', () => {
  it('keeps an IPv4 address, and an IPv4 address seen through a dual-stack socket', () => {
    expect(sourceKeyOf('203.0.113.7')).toBe('203.0.113.7');
    expect(sourceKeyOf('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(sourceKeyOf('::FFFF:203.0.113.7')).toBe('203.0.113.7');
  });

  it('counts every address of one IPv6 /64 as one source, however it is written', () => {
    const one = sourceKeyOf('2001:db8:0:1::1');
    expect(one).toBe('2001:db8:0:1::/64');
    for (const address of ['2001:db8:0:1:ffff:ffff:ffff:ffff', '2001:0DB8:0000:0001:0:0:0:2', '2001:db8::1:a:b:c:d', 'fe80::1%eth0'.replace('fe80::1', '2001:db8:0:1::9'), '2001:db8:0:1::1.2.3.4']) {
      expect(sourceKeyOf(address), address).toBe(one);
    }
    expect(sourceKeyOf('2001:db8:0:1:0:0:1.2.3.4')).toBe(one);
    expect(sourceKeyOf('[2001:db8:0:1::5]')).toBe(one);
    expect(sourceKeyOf('2001:db8:0:2::1')).not.toBe(one);
    expect(sourceKeyOf('1:2:3:4:5:6:7::')).toBe('1:2:3:4::/64');
    expect(sourceKeyOf('::')).toBe('0:0:0:0::/64');
    expect(sourceKeyOf('::1')).toBe('0:0:0:0::/64');
    expect(sourceKeyOf('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });

  it('leaves anything that is not an address as it is (counted on its own, never thrown)', () => {
    for (const odd of ['', 'unknown', '1:2:3', '1::2::3', ':::', 'g::1', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::', '12345::1', '1.2.3.4::1', '::1.2.3', ':1:2:3:4:5:6:7', '::ffff:1.2.3']) expect(sourceKeyOf(odd)).toBe(odd);
  });

  it('for any IPv6 address, the key is the /64 that holds it (checked by node:net), and garbage never throws', () => {
    fc.assert(
      fc.property(fc.ipV6(), (address) => {
        const key = sourceKeyOf(address);
        if (!key.endsWith('::/64')) {
          // Only an IPv4-mapped address becomes its IPv4 address.
          expect(address.toLowerCase()).toBe(`::ffff:${key}`);
          return;
        }
        const subnet = new BlockList();
        subnet.addSubnet(key.slice(0, -3), 64, 'ipv6');
        expect(subnet.check(address, 'ipv6'), `${address} -> ${key}`).toBe(true);
      }),
      { seed: 20261206, numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.stringMatching(/^[0-9a-fA-F:.%\[\]]{0,60}$/)), (input) => {
        expect(typeof sourceKeyOf(input)).toBe('string');
      }),
      { seed: 20261206, numRuns: 2000 },
    );
  });
});
