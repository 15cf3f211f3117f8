// A growable UTF-8 output buffer in unmanaged memory: messages are written here and handed to the host by
// pointer, with no intermediate string. Owners keep one writer for the module's life and reset it per use.

/** Buffers above this are returned to the allocator after use instead of being kept for the next message. */
const KEEP_CAPACITY: usize = 64 * 1024;

const HEX = "0123456789abcdef";

export class ByteWriter {
  ptr: usize = 0;
  len: i32 = 0;
  private cap: usize = 0;

  reset(): void {
    this.len = 0;
    if (this.cap > KEEP_CAPACITY) {
      heap.free(this.ptr);
      this.ptr = 0;
      this.cap = 0;
    }
  }

  /** Returns the buffer to the allocator (a writer that is dropped would otherwise leak it). */
  release(): void {
    if (this.ptr != 0) heap.free(this.ptr);
    this.ptr = 0;
    this.cap = 0;
    this.len = 0;
  }

  private reserve(extra: usize): void {
    const need = <usize>this.len + extra;
    if (need <= this.cap) return;
    let cap = this.cap < 256 ? <usize>256 : this.cap;
    while (cap < need) cap <<= 1;
    this.ptr = this.ptr == 0 ? heap.alloc(cap) : heap.realloc(this.ptr, cap);
    this.cap = cap;
  }

  byte(b: u8): void {
    this.reserve(1);
    store<u8>(this.ptr + <usize>this.len, b);
    this.len++;
  }

  bytes(src: usize, n: i32): void {
    this.reserve(<usize>n);
    memory.copy(this.ptr + <usize>this.len, src, <usize>n);
    this.len += n;
  }

  /** Text known to be ASCII (keys, punctuation, number digits). */
  ascii(s: string): void {
    const n = s.length;
    this.reserve(<usize>n);
    const base = this.ptr + <usize>this.len;
    for (let i = 0; i < n; i++) store<u8>(base + <usize>i, <u8>s.charCodeAt(i));
    this.len += n;
  }

  /** A JSON string literal: quoted, escaped like JSON.stringify (lone surrogates as \uXXXX), UTF-8 encoded. */
  jsonString(s: string): void {
    const n = s.length;
    // Worst case: 6 bytes per UTF-16 unit (\uXXXX), plus the quotes. Reserved once, then written directly.
    this.reserve(<usize>n * 6 + 2);
    const src = changetype<usize>(s);
    let out = this.ptr + <usize>this.len;
    store<u8>(out++, 0x22);
    for (let i = 0; i < n; i++) {
      const c = <u32>load<u16>(src + (<usize>i << 1));
      if (c < 0x80) {
        if (c >= 0x20 && c != 0x22 && c != 0x5C) {
          store<u8>(out++, <u8>c);
        } else {
          store<u8>(out++, 0x5C);
          if (c == 0x22 || c == 0x5C) store<u8>(out++, <u8>c);
          else if (c == 0x0A) store<u8>(out++, 0x6E);
          else if (c == 0x0D) store<u8>(out++, 0x72);
          else if (c == 0x09) store<u8>(out++, 0x74);
          else if (c == 0x08) store<u8>(out++, 0x62);
          else if (c == 0x0C) store<u8>(out++, 0x66);
          else out = writeUnicodeEscape(out, c);
        }
      } else if (c < 0x800) {
        store<u8>(out++, <u8>(0xC0 | (c >> 6)));
        store<u8>(out++, <u8>(0x80 | (c & 0x3F)));
      } else if (c >= 0xD800 && c < 0xE000) {
        const next = i + 1 < n ? <u32>load<u16>(src + (<usize>(i + 1) << 1)) : 0;
        if (c < 0xDC00 && next >= 0xDC00 && next < 0xE000) {
          const cp = 0x10000 + ((c - 0xD800) << 10) + (next - 0xDC00);
          store<u8>(out++, <u8>(0xF0 | (cp >> 18)));
          store<u8>(out++, <u8>(0x80 | ((cp >> 12) & 0x3F)));
          store<u8>(out++, <u8>(0x80 | ((cp >> 6) & 0x3F)));
          store<u8>(out++, <u8>(0x80 | (cp & 0x3F)));
          i++;
        } else {
          store<u8>(out++, 0x5C);
          out = writeUnicodeEscape(out, c);
        }
      } else {
        store<u8>(out++, <u8>(0xE0 | (c >> 12)));
        store<u8>(out++, <u8>(0x80 | ((c >> 6) & 0x3F)));
        store<u8>(out++, <u8>(0x80 | (c & 0x3F)));
      }
    }
    store<u8>(out++, 0x22);
    this.len = <i32>(out - this.ptr);
  }

  /** The bytes written so far, decoded. */
  toString(): string {
    return String.UTF8.decodeUnsafe(this.ptr, <usize>this.len);
  }
}

/** Writes "uXXXX" (the backslash is already out) at `out`; returns the next free byte. */
function writeUnicodeEscape(out: usize, c: u32): usize {
  store<u8>(out, 0x75);
  for (let shift = 12, i: usize = 1; shift >= 0; shift -= 4, i++) store<u8>(out + i, <u8>HEX.charCodeAt((c >> shift) & 0xF));
  return out + 5;
}
