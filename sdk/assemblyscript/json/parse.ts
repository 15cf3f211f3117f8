// A strict JSON parser (RFC 8259) reading UTF-8 bytes straight from linear memory, so an incoming message is
// never turned into one big string first. Malformed input yields null, never a trap.
import { parseJsonNumber } from "./number-parse";
import { JsonKind, JsonValue } from "./value";

/** Deeper nesting is refused: recursion that deep would exhaust the wasm stack and trap. */
const MAX_DEPTH: i32 = 512;

/** UTF-16 scratch for strings with escapes; kept between calls. */
let scratch: usize = 0;
let scratchUnits: usize = 0;

function ensureScratch(units: usize): void {
  if (units <= scratchUnits) return;
  let cap = scratchUnits < 64 ? <usize>64 : scratchUnits;
  while (cap < units) cap <<= 1;
  scratch = scratch == 0 ? heap.alloc(cap << 1) : heap.realloc(scratch, cap << 1);
  scratchUnits = cap;
}

function hexDigit(b: u32): i32 {
  if (b >= 0x30 && b <= 0x39) return <i32>(b - 0x30);
  if (b >= 0x61 && b <= 0x66) return <i32>(b - 0x61 + 10);
  if (b >= 0x41 && b <= 0x46) return <i32>(b - 0x41 + 10);
  return -1;
}

function isDigit(b: u32): bool { return b >= 0x30 && b <= 0x39; }

/** nextKey's answers besides an index into its keys. */
export const KEY_OTHER: i32 = -1;
export const KEY_END: i32 = -2;
export const KEY_FAILED: i32 = -3;

export class JsonParser {
  private pos: usize;
  private end: usize;
  private depth: i32 = 0;
  failed: bool = false;
  /** Entries read so far of the object begun by beginObject. */
  private entries: i32 = 0;

  constructor(ptr: usize, len: usize) {
    this.pos = ptr;
    this.end = ptr + len;
  }

  /** The one value filling the whole input, or null when the input is not exactly one JSON value. */
  parseDocument(): JsonValue | null {
    const v = this.value();
    this.skipSpace();
    if (this.failed || this.pos != this.end) return null;
    return v;
  }

  /**
   * Starts reading the top-level object entry by entry (nextKey, then one of the value readers), for a caller
   * that knows the keys it wants: no key string and no tree is built. False when the input is not an object.
   */
  beginObject(): bool {
    this.skipSpace();
    if (this.peek() != 0x7B) { this.fail(); return false; }
    this.pos++;
    this.depth = 1;
    this.entries = 0;
    return true;
  }

  /**
   * The next key of the object begun by beginObject: its index in `keys`, KEY_OTHER for any other key,
   * KEY_END after the last entry, or KEY_FAILED when the text is malformed. Leaves the parser at the value.
   */
  nextKey(keys: StaticArray<string>): i32 {
    this.skipSpace();
    const b = this.peek();
    if (b == 0x7D) {
      this.pos++;
      this.depth--;
      return KEY_END;
    }
    if (this.entries > 0) {
      if (b != 0x2C) { this.fail(); return KEY_FAILED; }
      this.pos++;
      this.skipSpace();
    }
    if (this.peek() != 0x22) { this.fail(); return KEY_FAILED; }
    let index = this.matchString(keys);
    if (index == KEY_OTHER) {
      // An escaped or unknown key: decoded, then compared as text.
      const key = this.string();
      if (this.failed) return KEY_FAILED;
      for (let i = 0; i < keys.length; i++) {
        if (unchecked(keys[i]) == key) { index = i; break; }
      }
    }
    this.skipSpace();
    if (this.peek() != 0x3A) { this.fail(); return KEY_FAILED; }
    this.pos++;
    this.entries++;
    return index;
  }

  /**
   * The string literal at the parser, when its bytes (without escapes) spell one of `candidates` (ASCII):
   * that one's index, and the parser moves past it. Else KEY_OTHER, and the parser stays where it was.
   */
  matchString(candidates: StaticArray<string>): i32 {
    const start = this.pos + 1;
    const end = this.end;
    let p = start;
    while (p < end) {
      const b = load<u8>(p);
      if (b == 0x22) break;
      if (b == 0x5C || b < 0x20) return KEY_OTHER;
      p++;
    }
    if (p >= end) return KEY_OTHER;
    const n = <i32>(p - start);
    for (let i = 0; i < candidates.length; i++) {
      const c = unchecked(candidates[i]);
      if (c.length != n) continue;
      let same = true;
      for (let j = 0; j < n; j++) {
        if (<u32>load<u8>(start + <usize>j) != <u32>c.charCodeAt(j)) { same = false; break; }
      }
      if (same) {
        this.pos = p + 1;
        return i;
      }
    }
    return KEY_OTHER;
  }

  /** True when the value at the parser (after whitespace) is a string literal. */
  atString(): bool {
    this.skipSpace();
    return this.peek() == 0x22;
  }

  /** The value at the parser when it is a string; otherwise the value is checked, skipped, and null returned. */
  stringValue(): string | null {
    this.skipSpace();
    if (this.peek() == 0x22) return this.string();
    this.value();
    return null;
  }

  /** The value at the parser, parsed. */
  anyValue(): JsonValue {
    return this.value();
  }

  /** The value at the parser, kept unparsed (see deferredValue). */
  unparsedValue(): JsonValue {
    return this.deferredValue();
  }

  /** After the object begun by beginObject ended: true when nothing but whitespace follows and nothing failed. */
  endDocument(): bool {
    this.skipSpace();
    return !this.failed && this.pos == this.end;
  }

  private fail(): JsonValue {
    this.failed = true;
    this.pos = this.end;
    return new JsonValue(JsonKind.Null);
  }

  private peek(): u32 { return this.pos < this.end ? <u32>load<u8>(this.pos) : 0xFFFFFFFF; }

  private skipSpace(): void {
    let p = this.pos;
    const end = this.end;
    while (p < end) {
      const b = load<u8>(p);
      if (b != 0x20 && b != 0x0A && b != 0x0D && b != 0x09) break;
      p++;
    }
    this.pos = p;
  }

  private value(): JsonValue {
    this.skipSpace();
    const b = this.peek();
    if (b == 0x22) return JsonValue.ofString(this.string());
    if (b == 0x7B) return this.object();
    if (b == 0x5B) return this.array();
    if (b == 0x74) return this.literal("true") ? JsonValue.ofBool(true) : this.fail();
    if (b == 0x66) return this.literal("false") ? JsonValue.ofBool(false) : this.fail();
    if (b == 0x6E) return this.literal("null") ? new JsonValue(JsonKind.Null) : this.fail();
    if (b == 0x2D || isDigit(b)) return this.number();
    return this.fail();
  }

  private literal(word: string): bool {
    const n = <usize>word.length;
    if (this.end - this.pos < n) return false;
    for (let i: usize = 0; i < n; i++) {
      if (<u32>load<u8>(this.pos + i) != <u32>word.charCodeAt(<i32>i)) return false;
    }
    this.pos += n;
    return true;
  }

  private number(): JsonValue {
    const start = this.pos;
    if (this.peek() == 0x2D) this.pos++;
    if (this.peek() == 0x30) {
      this.pos++;
    } else if (isDigit(this.peek())) {
      while (isDigit(this.peek())) this.pos++;
    } else {
      return this.fail();
    }
    const intEnd = this.pos;
    if (this.peek() == 0x2E) {
      this.pos++;
      if (!isDigit(this.peek())) return this.fail();
      while (isDigit(this.peek())) this.pos++;
    }
    const e = this.peek();
    if (e == 0x65 || e == 0x45) {
      this.pos++;
      const sign = this.peek();
      if (sign == 0x2B || sign == 0x2D) this.pos++;
      if (!isDigit(this.peek())) return this.fail();
      while (isDigit(this.peek())) this.pos++;
    }
    const len = this.pos - start;
    // Integers of up to 15 digits (the common case: counts, ids, prices in cents) are exact doubles that
    // print back with the same digits, so neither their text nor the general conversion is needed.
    if (intEnd == this.pos && len <= 16) {
      const negative = load<u8>(start) == 0x2D;
      let p = negative ? start + 1 : start;
      if (this.pos - p <= 15 && !(negative && load<u8>(p) == 0x30)) {
        let value: f64 = 0;
        for (; p < this.pos; p++) value = value * 10 + <f64>(load<u8>(p) - 0x30);
        return JsonValue.ofNumber(negative ? -value : value);
      }
    }
    const text = String.UTF8.decodeUnsafe(start, len);
    return JsonValue.ofNumberText(parseJsonNumber(text), text);
  }

  /** A string literal at `pos` (the opening quote). */
  private string(): string {
    // Loops keep the position in a local: a field is a load and a store per byte, and fuel counts them.
    const start = this.pos + 1;
    const end = this.end;
    let p = start;
    // Fast path: no escape, so the bytes are the string.
    while (p < end) {
      const b = load<u8>(p);
      if (b == 0x22) {
        this.pos = p + 1;
        return String.UTF8.decodeUnsafe(start, p - start);
      }
      if (b == 0x5C || b < 0x20) break;
      p++;
    }
    this.pos = p;
    if (p >= end || load<u8>(p) < 0x20) { this.fail(); return ""; }
    return this.escapedString(start);
  }

  /** Moves past the string literal at `pos` (the opening quote) without decoding it. */
  private skipString(): void {
    const end = this.end;
    let p = this.pos + 1;
    while (p < end) {
      const b = load<u8>(p);
      if (b == 0x22) { this.pos = p + 1; return; }
      if (b < 0x20) break;
      p += b == 0x5C ? 2 : 1;
    }
    this.fail();
  }

  /**
   * The value at `pos` kept unparsed (JsonValue.lazy), parsed only if the agent looks at it; scalars are parsed,
   * being small. Its extent is found by a scan that checks strings and bracket nesting only: meant for text the
   * host wrote (a message is valid JSON by then), where a full check would cost as much as parsing.
   */
  private deferredValue(): JsonValue {
    this.skipSpace();
    const start = this.pos;
    const b = this.peek();
    if (b == 0x22) {
      this.skipString();
    } else if (b == 0x7B || b == 0x5B) {
      // Brackets nest; inside strings they do not count.
      const end = this.end;
      let p = start;
      let open: i32 = 0;
      while (p < end) {
        const c = load<u8>(p);
        if (c == 0x22) {
          this.pos = p;
          this.skipString();
          if (this.failed) return new JsonValue(JsonKind.Null);
          p = this.pos;
          continue;
        }
        p++;
        if (c == 0x7B || c == 0x5B) open++;
        else if (c == 0x7D || c == 0x5D) { if (--open == 0) break; }
      }
      this.pos = p;
      if (open != 0) this.fail();
    } else {
      return this.value();
    }
    if (this.failed) return new JsonValue(JsonKind.Null);
    return JsonValue.lazy(start, this.pos - start);
  }

  /** Slow path: decode segment by segment into UTF-16 scratch. `pos` is at the first backslash. */
  private escapedString(start: usize): string {
    let units: usize = 0;
    let segment = start;
    while (true) {
      if (this.pos >= this.end) { this.fail(); return ""; }
      const b = load<u8>(this.pos);
      if (b != 0x22 && b != 0x5C) {
        if (b < 0x20) { this.fail(); return ""; }
        this.pos++;
        continue;
      }
      if (this.pos > segment) {
        const part = String.UTF8.decodeUnsafe(segment, this.pos - segment);
        const partUnits = <usize>part.length;
        ensureScratch(units + partUnits);
        memory.copy(scratch + (units << 1), changetype<usize>(part), partUnits << 1);
        units += partUnits;
      }
      if (b == 0x22) {
        this.pos++;
        return String.UTF16.decodeUnsafe(scratch, units << 1);
      }
      // A backslash escape.
      if (this.pos + 1 >= this.end) { this.fail(); return ""; }
      const c = <u32>load<u8>(this.pos + 1);
      let unit: u32 = 0;
      this.pos += 2;
      if (c == 0x22 || c == 0x5C || c == 0x2F) unit = c;
      else if (c == 0x6E) unit = 0x0A;
      else if (c == 0x74) unit = 0x09;
      else if (c == 0x72) unit = 0x0D;
      else if (c == 0x62) unit = 0x08;
      else if (c == 0x66) unit = 0x0C;
      else if (c == 0x75) {
        if (this.end - this.pos < 4) { this.fail(); return ""; }
        for (let i = 0; i < 4; i++) {
          const d = hexDigit(<u32>load<u8>(this.pos++));
          if (d < 0) { this.fail(); return ""; }
          unit = (unit << 4) | <u32>d;
        }
      } else { this.fail(); return ""; }
      ensureScratch(units + 1);
      store<u16>(scratch + (units << 1), <u16>unit);
      units++;
      segment = this.pos;
    }
  }

  private array(): JsonValue {
    if (++this.depth > MAX_DEPTH) return this.fail();
    this.pos++;
    const arr = new JsonValue(JsonKind.Array);
    this.skipSpace();
    if (this.peek() == 0x5D) {
      this.pos++;
    } else {
      while (true) {
        arr.push(this.value());
        if (this.failed) return arr;
        this.skipSpace();
        const b = this.peek();
        this.pos++;
        if (b == 0x5D) break;
        if (b != 0x2C) return this.fail();
      }
    }
    this.depth--;
    return arr;
  }

  private object(): JsonValue {
    if (++this.depth > MAX_DEPTH) return this.fail();
    this.pos++;
    const obj = new JsonValue(JsonKind.Object);
    this.skipSpace();
    if (this.peek() == 0x7D) {
      this.pos++;
    } else {
      while (true) {
        this.skipSpace();
        if (this.peek() != 0x22) return this.fail();
        const key = this.string();
        this.skipSpace();
        if (this.peek() != 0x3A) return this.fail();
        this.pos++;
        obj.append(key, this.value());
        if (this.failed) return obj;
        this.skipSpace();
        const b = this.peek();
        this.pos++;
        if (b == 0x7D) break;
        if (b != 0x2C) return this.fail();
      }
    }
    this.depth--;
    return obj;
  }
}
