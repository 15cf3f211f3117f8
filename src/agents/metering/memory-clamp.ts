// Rewrites a module's memory section so that its declared maximum is at most the agent's limit, also when
// it declares none. With a maximum, growth past the limit fails in the engine itself, and V8 reserves
// address space for the maximum rather than for 4 GiB (that reservation is what caps live instances).
import { readU32, writeU32 } from './leb128.ts';
import { sectionOf, withPayload } from './wasm-sections.ts';

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
  const memory = sectionOf(bytes, SECTION_MEMORY);
  const count = memory === undefined ? undefined : readU32(bytes, memory.payloadStart);
  if (memory === undefined || count === undefined || count.value === 0) return { bytes, maxPages: limitPages, minPages: 0 };
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
  const payload = [...writeU32(count.value), HAS_MAX, ...writeU32(min.value), ...writeU32(maxPages), ...bytes.subarray(afterLimits, memory.end)];
  return { bytes: withPayload(bytes, memory, payload), maxPages, minPages: min.value };
}
