// Rewrites a module's memory section so that its declared maximum is at most the agent's limit, also when
// it declares none. With a maximum, growth past the limit fails in the engine itself, and V8 reserves
// address space for the maximum rather than for 4 GiB (that reservation is what caps live instances).
import { readU32, writeU32 } from './leb128.ts';

const SECTION_MEMORY = 5;
const HAS_MAX = 0x01;

export interface ClampedMemory {
  bytes: Uint8Array;
  /** The maximum the module now declares, in pages. */
  maxPages: number;
  /** The declared minimum, in pages. */
  minPages: number;
}

/**
 * The module with its (first, defined) memory's maximum set to min(declared maximum, limitPages). Modules
 * without a memory section come back unchanged with maxPages = limitPages.
 */
export function clampMemoryMaximum(bytes: Uint8Array, limitPages: number): ClampedMemory {
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos];
    const size = readU32(bytes, pos + 1);
    const payloadStart = size.next;
    const payloadEnd = payloadStart + size.value;
    if (id !== SECTION_MEMORY) {
      pos = payloadEnd;
      continue;
    }
    const count = readU32(bytes, payloadStart);
    if (count.value === 0) break;
    const flags = bytes[count.next];
    if (flags !== 0 && flags !== HAS_MAX) throw new Error(`memory flags 0x${flags.toString(16)} (shared or 64-bit memory) are not supported`);
    const min = readU32(bytes, count.next + 1);
    let afterLimits = min.next;
    let declaredMax = Infinity;
    if (flags === HAS_MAX) {
      const max = readU32(bytes, min.next);
      declaredMax = max.value;
      afterLimits = max.next;
    }
    const maxPages = Math.min(declaredMax, limitPages);
    const payload = [
      ...writeU32(count.value), HAS_MAX, ...writeU32(min.value), ...writeU32(maxPages),
      ...bytes.subarray(afterLimits, payloadEnd),
    ];
    const section = [SECTION_MEMORY, ...writeU32(payload.length), ...payload];
    const out = new Uint8Array(pos + section.length + (bytes.length - payloadEnd));
    out.set(bytes.subarray(0, pos), 0);
    out.set(section, pos);
    out.set(bytes.subarray(payloadEnd), pos + section.length);
    return { bytes: out, maxPages, minPages: min.value };
  }
  return { bytes, maxPages: limitPages, minPages: 0 };
}
