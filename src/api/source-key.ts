// The unit a failed-login budget is kept for. An IPv4 address is one; an IPv6 address is not: a single host is
// routinely given a whole /64 (SLAAC, privacy addresses) and can pick any of 2^64 addresses, so a budget per
// address would never run out. One /64 is one source, as most rate limiters count them (an IPv4 client behind
// NAT shares its budget the same way).

/** The source an address counts as: the IPv4 address, or the /64 prefix of an IPv6 one (`2001:db8:0:1::/64`). */
export function sourceKeyOf(address: string): string {
  if (!address.includes(':')) return address;
  const bare = address.startsWith('[') ? address.slice(1, address.indexOf(']')) : address;
  const zoneless = bare.split('%')[0]!.toLowerCase();
  // An IPv4 client seen through a dual-stack socket is that IPv4 address.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(zoneless);
  if (mapped) return mapped[1]!;
  const groups = hextetsOf(zoneless);
  if (!groups) return address;
  return `${groups.slice(0, 4).map((group) => parseInt(group, 16).toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, `::` expanded; undefined when it is not one. */
function hextetsOf(address: string): string[] | undefined {
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const partsOf = (half: string): string[] =>
    half === '' ? [] : half.split(':').flatMap((part) => (part.includes('.') ? ['0', '0'] : [part])); // a trailing IPv4 fills two groups
  const head = partsOf(halves[0]!);
  const tail = halves.length === 2 ? partsOf(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  return groups.every((group) => /^[0-9a-f]{1,4}$/.test(group)) ? groups : undefined;
}
