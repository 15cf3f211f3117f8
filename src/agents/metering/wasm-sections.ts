// The sections of a WebAssembly module as byte ranges, and a module with one section's payload replaced: what
// the module rewriters (memory-clamp.ts, table-clamp.ts, memory-import.ts) walk and patch. The bytes were
// validated by WebAssembly.validate before any rewriter sees them.
import { readU32, writeU32 } from './leb128.ts';

/** After the magic number and the version. */
const HEADER_BYTES = 8;

export interface Section {
  id: number;
  /** The whole section, id and size included. */
  start: number;
  end: number;
  payloadStart: number;
}

export function sectionsOf(bytes: Uint8Array): Section[] {
  const sections: Section[] = [];
  let pos = HEADER_BYTES;
  while (pos < bytes.length) {
    const size = readU32(bytes, pos + 1);
    sections.push({ id: bytes[pos], start: pos, end: size.next + size.value, payloadStart: size.next });
    pos = size.next + size.value;
  }
  return sections;
}

/** The first section with this id, if the module has one (known sections appear at most once). */
export function sectionOf(bytes: Uint8Array, id: number): Section | undefined {
  return sectionsOf(bytes).find((section) => section.id === id);
}

/** The module with `section`'s payload replaced by `payload`, everything else in place. */
export function withPayload(bytes: Uint8Array, section: Section, payload: ArrayLike<number>): Uint8Array {
  const head = [section.id, ...writeU32(payload.length)];
  const out = new Uint8Array(section.start + head.length + payload.length + (bytes.length - section.end));
  out.set(bytes.subarray(0, section.start), 0);
  out.set(head, section.start);
  out.set(payload, section.start + head.length);
  out.set(bytes.subarray(section.end), section.start + head.length + payload.length);
  return out;
}
