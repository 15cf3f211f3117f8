// Alive messages carry the IP as bytes (Go's net.IP), the transport speaks host strings.
import { isIPv4, isIPv6 } from 'node:net';

export function hostToBytes(host: string): Uint8Array {
  if (isIPv4(host)) return Uint8Array.from(host.split('.').map(Number));
  if (isIPv6(host)) {
    const [head, tail = ''] = host.includes('::') ? host.split('::') : [host, undefined];
    const groups = (part: string | undefined): number[] => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
    const left = groups(head);
    const right = host.includes('::') ? groups(tail) : [];
    const words = [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
    const out = new Uint8Array(16);
    words.forEach((w, i) => {
      out[2 * i] = w >> 8;
      out[2 * i + 1] = w & 0xff;
    });
    return out;
  }
  // A name, not an IP (only in tests and the simulator): carried as its UTF-8 bytes.
  return new TextEncoder().encode(host);
}

/**
 * Whether address bytes from a peer are an IP as memberlist sends one (Go's net.IP: 4 or 16 bytes). Any
 * other bytes would decode to a host name, and sending to a name makes the node resolve it: a peer's
 * message must never choose what we look up in DNS.
 */
export function isIpBytes(bytes: Uint8Array): boolean {
  return bytes.length === 4 || bytes.length === 16;
}

// Members learn the same address object many times (in the simulator, always): decode it once.
const hostCache = new WeakMap<Uint8Array, string>();

/** Decodes any bytes, names included (our own configured address may be one): check a peer's with isIpBytes. */
export function bytesToHost(bytes: Uint8Array): string {
  let host = hostCache.get(bytes);
  if (host === undefined) {
    host = decodeHost(bytes);
    hostCache.set(bytes, host);
  }
  return host;
}

function decodeHost(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length === 16) {
    const words: string[] = [];
    for (let i = 0; i < 16; i += 2) words.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
    return words.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
  }
  return new TextDecoder().decode(bytes);
}
