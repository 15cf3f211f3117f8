// A small reader of the WebAssembly binary format: just enough to check an agent module against the ABI
// (imports, exports, signatures, memory) and to count what later limits apply to. It never trusts a
// length or a count: malformed bytes end in a WasmFormatError, never in a crash or a huge allocation.

export type ValueType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref';
export type ExternalKind = 'function' | 'table' | 'memory' | 'global' | 'tag';

export interface FuncSignature {
  params: ValueType[];
  results: ValueType[];
}

export interface MemoryLimits {
  /** Minimum size in 64 KiB pages. */
  min: number;
  /** Maximum size in pages, null when undeclared. */
  max: number | null;
  shared: boolean;
  memory64: boolean;
  /** True when the memory comes from an import rather than the module's memory section. */
  imported: boolean;
}

export interface WasmImport {
  module: string;
  name: string;
  kind: ExternalKind;
  /** For function imports. */
  signature?: FuncSignature;
}

export interface WasmExport {
  name: string;
  kind: ExternalKind;
  index: number;
  /** For function exports. */
  signature?: FuncSignature;
}

export interface WasmCounts {
  types: number;
  imports: number;
  importedFunctions: number;
  /** Functions defined in the module (not imported). */
  functions: number;
  exports: number;
  /** Tables, imported and defined. */
  tables: number;
  /** Entries of all tables at their declared minimum sizes (each costs the instance ~30 bytes, measured). */
  tableElements: number;
  /** Memories, imported and defined. */
  memories: number;
  /** Globals, imported and defined. */
  globals: number;
  dataSegments: number;
}

export interface WasmInspection {
  imports: WasmImport[];
  exports: WasmExport[];
  /** The first memory (the only one an agent may have), or null. */
  memory: MemoryLimits | null;
  counts: WasmCounts;
}

export class WasmFormatError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} (at byte ${offset})`);
    this.name = 'WasmFormatError';
    this.offset = offset;
  }
}

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];
const WASM_VERSION = [0x01, 0x00, 0x00, 0x00];

const VALUE_TYPES: Record<number, ValueType> = {
  0x7f: 'i32',
  0x7e: 'i64',
  0x7d: 'f32',
  0x7c: 'f64',
  0x7b: 'v128',
  0x70: 'funcref',
  0x6f: 'externref',
};

const KINDS: ExternalKind[] = ['function', 'table', 'memory', 'global', 'tag'];

const SECTION = { type: 1, import: 2, function: 3, table: 4, memory: 5, global: 6, export: 7, data: 11 } as const;

/** True when the bytes start like a WebAssembly binary module (magic and version 1). */
export function looksLikeWasm(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return false;
  for (let i = 0; i < 4; i++) if (bytes[i] !== WASM_MAGIC[i] || bytes[i + 4] !== WASM_VERSION[i]) return false;
  return true;
}

class Reader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  fail(message: string): never {
    throw new WasmFormatError(message, this.pos);
  }

  byte(): number {
    if (this.pos >= this.end) this.fail('unexpected end of section');
    return this.bytes[this.pos++];
  }

  /** Unsigned LEB128 of at most `bits` bits (32 or 64; 64-bit values beyond 2^53 are refused). */
  uleb(bits = 32): number {
    let result = 0;
    let scale = 1;
    const maxBytes = Math.ceil(bits / 7);
    for (let i = 0; i < maxBytes; i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (result > (bits === 32 ? 0xffffffff : Number.MAX_SAFE_INTEGER)) this.fail('integer too large');
        return result;
      }
      scale *= 128;
    }
    return this.fail('integer representation too long');
  }

  /** A vector length, refused when the remaining bytes cannot hold that many entries of `minBytes` each. */
  count(minBytes = 1): number {
    const n = this.uleb();
    if (n * minBytes > this.end - this.pos) this.fail(`count ${n} exceeds the section size`);
    return n;
  }

  name(): string {
    const len = this.count();
    const start = this.pos;
    this.pos += len;
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(this.bytes.subarray(start, start + len));
    } catch {
      this.pos = start;
      return this.fail('name is not valid UTF-8');
    }
  }

  valueType(): ValueType {
    const code = this.byte();
    const type = VALUE_TYPES[code];
    if (!type) this.fail(`unknown value type 0x${code.toString(16)}`);
    return type;
  }

  limits(memory: boolean): MemoryLimits {
    const flags = this.byte();
    if (flags > (memory ? 0x07 : 0x01)) this.fail(`unknown limits flags 0x${flags.toString(16)}`);
    const memory64 = (flags & 0x04) !== 0;
    const min = this.uleb(memory64 ? 64 : 32);
    const max = flags & 0x01 ? this.uleb(memory64 ? 64 : 32) : null;
    return { min, max, shared: (flags & 0x02) !== 0, memory64, imported: false };
  }
}

/** Parses the sections an agent check needs; throws WasmFormatError on anything malformed. */
export function inspectWasm(bytes: Uint8Array): WasmInspection {
  if (!looksLikeWasm(bytes)) throw new WasmFormatError('not a WebAssembly module', 0);
  const types: FuncSignature[] = [];
  const funcTypes: number[] = []; // type index of every function, imported ones first
  const imports: WasmImport[] = [];
  const exports: WasmExport[] = [];
  const memories: MemoryLimits[] = [];
  const counts: WasmCounts = {
    types: 0,
    imports: 0,
    importedFunctions: 0,
    functions: 0,
    exports: 0,
    tables: 0,
    tableElements: 0,
    memories: 0,
    globals: 0,
    dataSegments: 0,
  };

  const top = new Reader(bytes, 8, bytes.length);
  while (top.pos < top.end) {
    const id = top.byte();
    const size = top.uleb();
    const start = top.pos;
    if (size > top.end - start) top.fail(`section ${id} is larger than the module`);
    const r = new Reader(bytes, start, start + size);
    switch (id) {
      case SECTION.type:
        for (let i = 0, n = r.count(); i < n; i++) {
          const form = r.byte();
          if (form !== 0x60) r.fail(`unsupported type form 0x${form.toString(16)}`);
          const params: ValueType[] = [];
          for (let j = 0, m = r.count(); j < m; j++) params.push(r.valueType());
          const results: ValueType[] = [];
          for (let j = 0, m = r.count(); j < m; j++) results.push(r.valueType());
          types.push({ params, results });
        }
        counts.types = types.length;
        break;
      case SECTION.import:
        for (let i = 0, n = r.count(3); i < n; i++) {
          const module = r.name();
          const name = r.name();
          const kindCode = r.byte();
          const kind = KINDS[kindCode];
          if (!kind) r.fail(`unknown import kind ${kindCode}`);
          const entry: WasmImport = { module, name, kind };
          if (kind === 'function') {
            const typeIndex = r.uleb();
            if (typeIndex >= types.length) r.fail(`import ${module}.${name} uses unknown type ${typeIndex}`);
            entry.signature = types[typeIndex];
            funcTypes.push(typeIndex);
            counts.importedFunctions++;
          } else if (kind === 'table') {
            r.valueType();
            counts.tableElements += r.limits(false).min;
            counts.tables++;
          } else if (kind === 'memory') {
            memories.push({ ...r.limits(true), imported: true });
          } else if (kind === 'global') {
            r.valueType();
            r.byte();
            counts.globals++;
          } else {
            r.byte();
            r.uleb();
          }
          imports.push(entry);
        }
        counts.imports = imports.length;
        break;
      case SECTION.function:
        for (let i = 0, n = r.count(); i < n; i++) {
          const typeIndex = r.uleb();
          if (typeIndex >= types.length) r.fail(`function ${i} uses unknown type ${typeIndex}`);
          funcTypes.push(typeIndex);
          counts.functions++;
        }
        break;
      case SECTION.table:
        for (let i = 0, n = r.count(); i < n; i++) {
          r.valueType();
          counts.tableElements += r.limits(false).min;
          counts.tables++;
        }
        break;
      case SECTION.memory:
        for (let i = 0, n = r.count(); i < n; i++) memories.push(r.limits(true));
        break;
      case SECTION.global:
        // Init expressions need not be decoded to count globals: the count leads the section.
        counts.globals += r.count();
        break;
      case SECTION.export:
        for (let i = 0, n = r.count(3); i < n; i++) {
          const name = r.name();
          const kindCode = r.byte();
          const kind = KINDS[kindCode];
          if (!kind) r.fail(`unknown export kind ${kindCode}`);
          const index = r.uleb();
          const entry: WasmExport = { name, kind, index };
          if (kind === 'function') {
            if (index >= funcTypes.length) r.fail(`export ${name} names unknown function ${index}`);
            entry.signature = types[funcTypes[index]];
          }
          exports.push(entry);
        }
        counts.exports = exports.length;
        break;
      case SECTION.data:
        counts.dataSegments = r.count();
        break;
      default:
        break; // code, start, element, custom and later sections: the compiler validates them
    }
    top.pos = start + size;
  }
  counts.memories = memories.length;
  return { imports, exports, memory: memories[0] ?? null, counts };
}

/** `(i32, i32) -> i32` style text for messages. */
export function formatSignature(sig: { params: readonly string[]; results: readonly string[] }): string {
  return `(${sig.params.join(', ')}) -> ${sig.results.length === 0 ? '()' : sig.results.join(', ')}`;
}
