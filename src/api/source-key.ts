// The unit a failed-login budget is kept for. An IPv4 address is one; an IPv6 address is not: a single host is
// routinely given a whole /64 (SLAAC, privacy addresses) and can pick any of 2^64 addresses, so a budget per
// address would never run out. One /64 is one source, as most rate limiters count them (an IPv4 client behind
// NAT shares its budget the same way).
import { isIP } from 'node:net';

/**
 * Where a request comes from when its socket is already closed: Node then no longer knows the peer's address
 * (request.ip is undefined). Such a client reads no answer; its requests share this one source.
 */
export const UNKNOWN_SOURCE = 'unknown';

/** The source an address counts as: the IPv4 address, or the /64 prefix of an IPv6 one (`2001:db8:0:1::/64`). */
export function sourceKeyOf(address: string | undefined): string {
  if (address === undefined) return UNKNOWN_SOURCE;
  if (!address.includes(':')) return address;
  const bare = address.startsWith('[') ? address.slice(1, address.indexOf(']')) : address;
  const zone = bare.indexOf('%');
  const host = (zone === -1 ? bare : bare.slice(0, zone)).toLowerCase();
  if (isIP(host) !== 6) return address;
  // An IPv4 client seen through a dual-stack socket is that IPv4 address.
  if (host.startsWith('::ffff:') && isIP(host.slice(7)) === 4) return host.slice(7);
  return prefix64Of(host);
}

/** `a:b:c:d::/64` (groups without leading zeros) of a valid IPv6 address. */
function prefix64Of(address: string): string {
  const gap = address.indexOf('::');
  const head = gap === -1 ? address.split(':') : gap === 0 ? [] : address.slice(0, gap).split(':');
  const tail = gap === -1 || gap + 2 === address.length ? [] : address.slice(gap + 2).split(':');
  // A trailing dotted IPv4 part is the last two of the eight groups (never among the first four).
  const tailGroups = tail.length + (tail.length > 0 && tail[tail.length - 1]!.includes('.') ? 1 : 0);
  const tailStart = 8 - tailGroups;
  let prefix = '';
  for (let i = 0; i < 4; i++) {
    const group = i < head.length ? head[i]! : i >= tailStart ? tail[i - tailStart]! : '0';
    prefix += (i === 0 ? '' : ':') + parseInt(group, 16).toString(16);
  }
  return `${prefix}::/64`;
}
