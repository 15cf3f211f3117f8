// RFC 6762 §11: an mDNS packet whose source is not on a network this host is attached to is not from the
// local link (someone unicast it to port 5353 from afar) and is ignored, so a remote host cannot point
// this node at addresses of its choosing. IPv4 only: discovery speaks mDNS over IPv4 multicast.
import { isIP } from 'node:net';
import type { NetworkInterfaceInfo } from 'node:os';

/** What os.networkInterfaces() returns; injected so tests decide the interfaces. */
export type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

export function isOnLink(source: string, interfaces: Interfaces): boolean {
  if (isIP(source) !== 4) return false;
  const from = ipv4ToInt(source);
  for (const list of Object.values(interfaces)) {
    for (const info of list ?? []) {
      if (info.family !== 'IPv4' || info.cidr === null) continue;
      const bits = Number(info.cidr.slice(info.cidr.indexOf('/') + 1));
      if (!Number.isInteger(bits) || bits < 0 || bits > 32) continue;
      const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
      if (((from & mask) >>> 0) === ((ipv4ToInt(info.address) & mask) >>> 0)) return true;
    }
  }
  return false;
}

function ipv4ToInt(address: string): number {
  return address.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0);
}
