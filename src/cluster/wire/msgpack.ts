// MessagePack exactly as memberlist's go-msgpack `codec.MsgpackHandle{}` writes it, and tolerant reading.
//
// That handle (WriteExt=false) predates the str8/bin types: strings AND []byte are written as raw "str"
// (fixstr < 32, str16 < 65536, str32), never str8 nor bin. Go structs become maps keyed by the field
// names, in sorted order, omitting `omitempty` fields that are zero. A nil []byte is written as nil.
// Integers take the smallest positive form (fixint, uint8/16/32/64). Reading accepts every form
// (str8, bin, signed ints, arrays for byte slices) because newer handles and other peers may use them.

/** Thrown when the input ends inside a value; a stream reader waits for more bytes and tries again. */
export class NeedMoreBytes extends Error {
  /** How many bytes of the input (from its start) the value being read needs at least: a stream reader
   * waits for that many before parsing again, and refuses at once a declared length beyond its bound. */
  constructor(readonly needed = 0) {
    super('msgpack: input ends inside a value');
  }
}

/** Malformed input: the peer sent something no msgpack decoder can read. */
export class MsgpackError extends Error {}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

export class MsgpackWriter {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(initialSize = 256) {
    this.buf = new Uint8Array(initialSize);
    this.view = new DataView(this.buf.buffer);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  byte(b: number): this {
    this.reserve(1);
    this.buf[this.length++] = b;
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
    return this;
  }

  uint(n: number): this {
    if (!Number.isInteger(n) || n < 0) throw new MsgpackError(`msgpack: not an unsigned integer: ${n}`);
    if (n <= 0x7f) return this.byte(n);
    if (n <= 0xff) return this.byte(0xcc).byte(n);
    this.reserve(9);
    if (n <= 0xffff) {
      this.buf[this.length] = 0xcd;
      this.view.setUint16(this.length + 1, n);
      this.length += 3;
    } else if (n <= 0xffffffff) {
      this.buf[this.length] = 0xce;
      this.view.setUint32(this.length + 1, n);
      this.length += 5;
    } else {
      this.buf[this.length] = 0xcf;
      this.view.setBigUint64(this.length + 1, BigInt(n));
      this.length += 9;
    }
    return this;
  }

  bool(b: boolean): this {
    return this.byte(b ? 0xc3 : 0xc2);
  }

  nil(): this {
    return this.byte(0xc0);
  }

  /** The "raw" header go-msgpack uses for both strings and byte slices. */
  private rawHeader(len: number): void {
    if (len < 32) {
      this.byte(0xa0 | len);
      return;
    }
    this.reserve(5);
    if (len < 65536) {
      this.buf[this.length] = 0xda;
      this.view.setUint16(this.length + 1, len);
      this.length += 3;
    } else {
      this.buf[this.length] = 0xdb;
      this.view.setUint32(this.length + 1, len);
      this.length += 5;
    }
  }

  str(s: string): this {
    // Field names and most node names are short ASCII: written in place, without a TextEncoder copy.
    if (s.length < 32 && isAscii(s)) {
      this.reserve(1 + s.length);
      this.buf[this.length++] = 0xa0 | s.length;
      for (let i = 0; i < s.length; i++) this.buf[this.length++] = s.charCodeAt(i);
      return this;
    }
    const bytes = utf8.encode(s);
    this.rawHeader(bytes.length);
    return this.raw(bytes);
  }

  /** A Go []byte: nil when absent or empty (what an unset Go slice encodes to), raw str otherwise. */
  bytes(b: Uint8Array | undefined): this {
    if (!b || b.length === 0) return this.nil();
    this.rawHeader(b.length);
    return this.raw(b);
  }

  mapHeader(entries: number): this {
    if (entries < 16) return this.byte(0x80 | entries);
    this.reserve(3);
    this.buf[this.length] = 0xde;
    this.view.setUint16(this.length + 1, entries);
    this.length += 3;
    return this;
  }

  /** A copy of what was written (the writer's buffer is reused by nobody, but may be larger). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** A decoded msgpack value. Strings and binaries both come back as bytes: the Go field type decides. */
export type MsgpackValue = null | boolean | number | Uint8Array | MsgpackValue[] | MsgpackMap;
export type MsgpackMap = Map<string, MsgpackValue>;

/** Nesting deeper than memberlist ever writes is refused, so hostile input cannot exhaust the stack. */
const MAX_DEPTH = 16;

export class MsgpackReader {
  private readonly view: DataView;
  offset: number;

  constructor(
    private readonly buf: Uint8Array,
    offset = 0,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.offset = offset;
  }

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  private need(n: number): void {
    if (this.offset + n > this.buf.length) throw new NeedMoreBytes(this.offset + n);
  }

  private u8(): number {
    this.need(1);
    return this.buf[this.offset++];
  }

  private u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.offset);
    this.offset += 2;
    return v;
  }

  private u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.offset);
    this.offset += 4;
    return v;
  }

  /** Raw bytes from the input (a view, not a copy). */
  take(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  read(depth = 0): MsgpackValue {
    if (depth > MAX_DEPTH) throw new MsgpackError('msgpack: nested too deep');
    const b = this.u8();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b >= 0x80 && b <= 0x8f) return this.readMap(b & 0x0f, depth);
    if (b >= 0x90 && b <= 0x9f) return this.readArray(b & 0x0f, depth);
    if (b >= 0xa0 && b <= 0xbf) return this.take(b & 0x1f);
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
      case 0xd9:
        return this.take(this.u8());
      case 0xc5:
      case 0xda:
        return this.take(this.u16());
      case 0xc6:
      case 0xdb:
        return this.take(this.u32());
      case 0xc7:
        return this.skipExt(this.u8());
      case 0xc8:
        return this.skipExt(this.u16());
      case 0xc9:
        return this.skipExt(this.u32());
      case 0xca: {
        this.need(4);
        const v = this.view.getFloat32(this.offset);
        this.offset += 4;
        return v;
      }
      case 0xcb: {
        this.need(8);
        const v = this.view.getFloat64(this.offset);
        this.offset += 8;
        return v;
      }
      case 0xcc:
        return this.u8();
      case 0xcd:
        return this.u16();
      case 0xce:
        return this.u32();
      case 0xcf:
        return this.u32() * 2 ** 32 + this.u32();
      case 0xd0:
        return (this.u8() << 24) >> 24;
      case 0xd1:
        return (this.u16() << 16) >> 16;
      case 0xd2:
        return this.u32() | 0;
      case 0xd3: {
        this.need(8);
        const v = Number(this.view.getBigInt64(this.offset));
        this.offset += 8;
        return v;
      }
      case 0xd4:
        return this.skipExt(1);
      case 0xd5:
        return this.skipExt(2);
      case 0xd6:
        return this.skipExt(4);
      case 0xd7:
        return this.skipExt(8);
      case 0xd8:
        return this.skipExt(16);
      case 0xdc:
        return this.readArray(this.u16(), depth);
      case 0xdd:
        return this.readArray(this.u32(), depth);
      case 0xde:
        return this.readMap(this.u16(), depth);
      case 0xdf:
        return this.readMap(this.u32(), depth);
      default:
        throw new MsgpackError(`msgpack: invalid descriptor 0x${b.toString(16)}`);
    }
  }

  /** Extensions carry nothing memberlist uses: skipped, read as nil. */
  private skipExt(len: number): null {
    this.take(1 + len);
    return null;
  }

  private readArray(len: number, depth: number): MsgpackValue[] {
    // Each element takes at least one byte: a length beyond the input is truncation, not an allocation.
    this.need(len);
    const out: MsgpackValue[] = [];
    for (let i = 0; i < len; i++) out.push(this.read(depth + 1));
    return out;
  }

  private readMap(len: number, depth: number): MsgpackMap {
    this.need(len * 2);
    const out: MsgpackMap = new Map();
    for (let i = 0; i < len; i++) {
      const key = this.read(depth + 1);
      const value = this.read(depth + 1);
      if (key instanceof Uint8Array) out.set(utf8Decoder.decode(key), value);
    }
    return out;
  }
}

// Field readers: what go-msgpack accepts when decoding into a Go field of that type. A missing field
// (or nil) leaves the Go zero value.

export function readStruct(v: MsgpackValue, what: string): MsgpackMap {
  if (v instanceof Map) return v;
  throw new MsgpackError(`msgpack: ${what} is not a map`);
}

export function fieldUint(m: MsgpackMap, name: string, max: number): number {
  const v = m.get(name);
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max) return v;
  throw new MsgpackError(`msgpack: field ${name} is not an unsigned integer within ${max}: ${String(v)}`);
}

export function fieldInt(m: MsgpackMap, name: string): number {
  const v = m.get(name);
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  throw new MsgpackError(`msgpack: field ${name} is not an integer`);
}

export function fieldBool(m: MsgpackMap, name: string): boolean {
  const v = m.get(name);
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1) return v === 1;
  throw new MsgpackError(`msgpack: field ${name} is not a bool`);
}

export function fieldBytes(m: MsgpackMap, name: string): Uint8Array {
  const v = m.get(name);
  if (v === undefined || v === null) return new Uint8Array(0);
  if (v instanceof Uint8Array) return v.slice();
  if (Array.isArray(v) && v.every((x) => typeof x === 'number' && x >= 0 && x <= 255)) return Uint8Array.from(v as number[]);
  throw new MsgpackError(`msgpack: field ${name} is not bytes`);
}

export function fieldString(m: MsgpackMap, name: string): string {
  const v = m.get(name);
  if (v === undefined || v === null) return '';
  if (v instanceof Uint8Array) return utf8Decoder.decode(v);
  throw new MsgpackError(`msgpack: field ${name} is not a string`);
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}
