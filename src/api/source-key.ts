// The unit a failed-login budget is kept for. An IPv4 address is one; an IPv6 address is not: a single host is
// routinely given a whole /64 (SLAAC, privacy addresses) and can pick any of 2^64 addresses, so a budget per
// address would never run out. One /64 is one source, as most rate limiters count them (an IPv4 client behind
// NAT shares its budget the same way).

/** The source an address counts as: the IPv4 address, or the /64 prefix of an IPv6 one (`2001:db8:0:1::/64`). */
export function sourceKeyOf(address: string): string {
  if (!address.includes(':')) return address;
  const bare = address.startsWith('[') ? address.slice(1, address.indexOf(']')) : address;
  const zone = bare.indexOf('%');
  const zoneless = (zone === -1 ? bare : bare.slice(0, zone)).toLowerCase();
  // An IPv4 client seen through a dual-stack socket is that IPv4 address.
  if (zoneless.startsWith('::ffff:') && zoneless.includes('.')) {
    const ipv4 = zoneless.slice(7);
    return /^\d+\.\d+\.\d+\.\d+$/.test(ipv4) ? ipv4 : address;
  }
  return prefix64Of(zoneless) ?? address;
}

/** `a:b:c:d::/64` for an IPv6 address (groups without leading zeros), or undefined when it is not one. */
function prefix64Of(address: string): string | undefined {
  const gap = address.indexOf('::');
  if (gap !== -1 && address.indexOf('::', gap + 1) !== -1) return undefined;
  const head = gap === -1 ? address.split(':') : gap === 0 ? [] : address.slice(0, gap).split(':');
  const tail = gap === -1 ? [] : gap + 2 === address.length ? [] : address.slice(gap + 2).split(':');
  // A trailing dotted IPv4 part stands for the last two groups.
  const last = gap === -1 ? head : tail;
  const dotted = last.length > 0 && last[last.length - 1]!.includes('.');
  if (dotted && !/^\d+\.\d+\.\d+\.\d+$/.test(last[last.length - 1]!)) return undefined;
  const groups = head.length + tail.length + (dotted ? 1 : 0);
  if (gap === -1 ? groups !== 8 : groups > 7) return undefined;
  for (let i = 0; i < head.length - (gap === -1 && dotted ? 1 : 0); i++) if (!isHextet(head[i]!)) return undefined;
  for (let i = 0; i < tail.length - (dotted ? 1 : 0); i++) if (!isHextet(tail[i]!)) return undefined;
  // Group i of the eight: from the head, else zero (the gap), else from the tail, which ends at group 7.
  const tailStart = 8 - tail.length - (dotted ? 1 : 0);
  let prefix = '';
  for (let i = 0; i < 4; i++) {
    const group = i < head.length ? head[i]! : i >= tailStart ? (tail[i - tailStart]!.includes('.') ? '0' : tail[i - tailStart]!) : '0';
    prefix += (i === 0 ? '' : ':') + parseInt(group, 16).toString(16);
  }
  return `${prefix}::/64`;
}

function isHextet(group: string): boolean {
  if (group.length === 0 || group.length > 4) return false;
  for (let i = 0; i < group.length; i++) {
    const c = group.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}
