// Rewrites a module's table section so that its tables together can never hold more than a bound of entries,
// whatever table.grow asks (one instruction: 10,000,000 entries grown in one invocation cost 300 MB). Each
// table gets a declared maximum: its own when lower, otherwise its minimum plus what the bound leaves after
// every table's minimum, handed out in table order. The minimums are checked against the same bound at deploy
// (module-validator.ts checkTableLimit), so what a module declares is never shrunk below what it starts with.
import { CaxtonError } from '../../errors.ts';
import { readU32, writeU32 } from './leb128.ts';
import { sectionOf, withPayload } from './wasm-sections.ts';

const SECTION_TABLE = 4;
const HAS_MAX = 0x01;
const REF_TYPES = new Set([0x70, 0x6f]); // funcref, externref

/** The module with every defined table's maximum set so that the maximums sum to at most `maxElements`. */
export function clampTableMaximums(bytes: Uint8Array, maxElements: number): Uint8Array {
  const section = sectionOf(bytes, SECTION_TABLE);
  if (section === undefined) return bytes;
  const count = readU32(bytes, section.payloadStart);
  const tables: { refType: number; min: number; max: number }[] = [];
  let at = count.next;
  for (let i = 0; i < count.value; i++) {
    const refType = bytes[at];
    const flags = bytes[at + 1];
    if (!REF_TYPES.has(refType) || (flags !== 0 && flags !== HAS_MAX)) {
      throw new CaxtonError('INVALID_MODULE', `table ${i} has a form Caxton does not support (type 0x${refType?.toString(16)}, flags 0x${flags?.toString(16)})`);
    }
    const min = readU32(bytes, at + 2);
    at = min.next;
    let max = Infinity;
    if (flags === HAS_MAX) {
      const declared = readU32(bytes, at);
      max = declared.value;
      at = declared.next;
    }
    tables.push({ refType, min: min.value, max });
  }
  let spare = Math.max(0, maxElements - tables.reduce((sum, t) => sum + t.min, 0));
  const payload: number[] = [...writeU32(count.value)];
  for (const table of tables) {
    const max = Math.min(table.max, table.min + spare);
    spare -= max - table.min;
    payload.push(table.refType, HAS_MAX, ...writeU32(table.min), ...writeU32(max));
  }
  payload.push(...bytes.subarray(at, section.end));
  return withPayload(bytes, section, payload);
}
