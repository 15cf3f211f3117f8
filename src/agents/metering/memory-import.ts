// Rewrites a module that defines its memory into one that imports it (HOST_MEMORY_MODULE.memory) with the same
// limits, so the host hands each instance its memory and can hand an evicted instance's memory to the next
// instance of the module (spare-memories.ts) instead of having V8 reserve a new one. With its trap handler V8
// reserves ~10 GiB of address space per memory and gives a dropped one back only at a garbage collection:
// under churn past agents.max_live_instances, new memories soon fail to reserve and every instantiation
// waits for a full GC. Nothing the agent sees changes: the memory is still index 0 and still exported as
// `memory`, and instantiation writes the active data segments into an imported memory as into a defined one.
import { readU32, writeU32 } from './leb128.ts';
import { sectionsOf } from './wasm-sections.ts';

/** The import module of the rewritten memory: not `caxton` nor WASI, so no agent import can name it. */
export const HOST_MEMORY_MODULE = '__caxton_host';
export const HOST_MEMORY_NAME = 'memory';

const SECTION_TYPE = 1;
const SECTION_IMPORT = 2;
const SECTION_MEMORY = 5;
const CUSTOM = 0;
const KIND_MEMORY = 0x02;
const HAS_MAX = 0x01;

export interface ImportedMemory {
  bytes: Uint8Array;
  /** The memory's limits, in pages: a memory handed to an instance must be exactly this. */
  initialPages: number;
  maximumPages: number;
}

function writeName(name: string): number[] {
  const utf8 = Buffer.from(name, 'utf8');
  return [...writeU32(utf8.length), ...utf8];
}

/**
 * The module with its one defined memory turned into an import of the same limits (it must declare a maximum:
 * run clampMemoryMaximum first); null when it defines no memory or several, which are left as they are.
 */
export function importDefinedMemory(bytes: Uint8Array): ImportedMemory | null {
  const sections = sectionsOf(bytes);
  const memory = sections.find((s) => s.id === SECTION_MEMORY);
  if (memory === undefined) return null;
  const count = readU32(bytes, memory.payloadStart);
  if (count.value !== 1) return null;
  const flags = bytes[count.next];
  if (flags !== HAS_MAX) return null;
  const min = readU32(bytes, count.next + 1);
  const max = readU32(bytes, min.next);
  const entry = [...writeName(HOST_MEMORY_MODULE), ...writeName(HOST_MEMORY_NAME), KIND_MEMORY, HAS_MAX, ...writeU32(min.value), ...writeU32(max.value)];

  const imports = sections.find((s) => s.id === SECTION_IMPORT);
  let importPayload: number[];
  if (imports === undefined) {
    importPayload = [1, ...entry];
  } else {
    const existing = readU32(bytes, imports.payloadStart);
    importPayload = [...writeU32(existing.value + 1), ...bytes.subarray(existing.next, imports.end), ...entry];
  }
  const importSection = Uint8Array.from([SECTION_IMPORT, ...writeU32(importPayload.length), ...importPayload]);

  // Imports go right after the type section (custom sections may sit anywhere): where the old one was, or
  // before the first section that must follow it.
  const at = imports ?? sections.find((s) => s.id !== CUSTOM && s.id !== SECTION_TYPE);
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let placed = false;
  for (const section of sections) {
    if (section === at) {
      parts.push(importSection);
      placed = true;
    }
    if (section === imports || section === memory) continue;
    parts.push(bytes.subarray(section.start, section.end));
  }
  if (!placed) parts.push(importSection);
  return { bytes: Buffer.concat(parts), initialPages: min.value, maximumPages: max.value };
}
