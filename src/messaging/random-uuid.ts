// Random (version 4) UUIDs for message ids, as flat strings. node:crypto's randomUUID builds its answer by
// concatenating 20 pieces; V8 keeps that as a tree of pieces, and the first thing that reads the id whole
// (writing a message into an agent's memory, hashing it as a map key) pays ~0.13 µs to flatten it, more
// than making it. Here the 36 characters come out of one String.fromCharCode: flat from the start.
// The randomness is the same: crypto-quality bytes drawn in batches, as randomUUID does.
import { randomFillSync } from 'node:crypto';

/** UUIDs per refill of the random pool: one crypto call per this many ids. */
const UUIDS_PER_REFILL = 256;

const pool = new Uint8Array(16 * UUIDS_PER_REFILL);
let next = pool.length;
const HIGH = new Uint8Array(256);
const LOW = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  HIGH[i] = '0123456789abcdef'.charCodeAt(i >> 4);
  LOW[i] = '0123456789abcdef'.charCodeAt(i & 15);
}
const DASH = 0x2d;

/** A random UUID (RFC 9562 version 4), lower case, e.g. `f7478d29-c8a2-41a4-b86a-47759970ac7f`. */
export function randomUuid(): string {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  const p = pool;
  const o = next;
  next += 16;
  const version = (p[o + 6] & 0x0f) | 0x40;
  const variant = (p[o + 8] & 0x3f) | 0x80;
  // prettier-ignore
  return String.fromCharCode(
    HIGH[p[o]], LOW[p[o]], HIGH[p[o + 1]], LOW[p[o + 1]], HIGH[p[o + 2]], LOW[p[o + 2]], HIGH[p[o + 3]], LOW[p[o + 3]], DASH,
    HIGH[p[o + 4]], LOW[p[o + 4]], HIGH[p[o + 5]], LOW[p[o + 5]], DASH,
    HIGH[version], LOW[version], HIGH[p[o + 7]], LOW[p[o + 7]], DASH,
    HIGH[variant], LOW[variant], HIGH[p[o + 9]], LOW[p[o + 9]], DASH,
    HIGH[p[o + 10]], LOW[p[o + 10]], HIGH[p[o + 11]], LOW[p[o + 11]], HIGH[p[o + 12]], LOW[p[o + 12]],
    HIGH[p[o + 13]], LOW[p[o + 13]], HIGH[p[o + 14]], LOW[p[o + 14]], HIGH[p[o + 15]], LOW[p[o + 15]],
  );
}
