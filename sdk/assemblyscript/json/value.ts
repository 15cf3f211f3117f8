// A JSON value: what message content is, what the parser returns and what the builder makes.
// One class with a kind tag rather than a class per kind, so reading never needs a cast:
// `msg.content.get("order").get("qty").asInt()` works and yields 0 when any step is missing.

import { JsonParser } from "./parse";
import { stringify } from "./stringify";

export enum JsonKind { Null = 0, Bool = 1, Number = 2, String = 3, Array = 4, Object = 5 }

export class JsonValue {
  /** What a lookup of something missing returns: shared, since a null has nothing to change. */
  static readonly MISSING: JsonValue = new JsonValue(JsonKind.Null);

  private _kind: JsonKind;
  private flag: bool = false;
  private num: f64 = 0;
  /** The exact text of a parsed number, written back unchanged so content passes through byte-exact. */
  private numText: string | null = null;
  private text: string = "";
  /** Array elements, or object values in insertion order. */
  private items: Array<JsonValue> | null = null;
  /** Object keys, parallel to `items`. */
  private names: Array<string> | null = null;
  /**
   * The UTF-8 JSON text of a value not parsed yet (JsonValue.lazy); null once parsed or when built. Message
   * content arrives this way: an agent that passes it on unread (echo, a router) copies the bytes instead of
   * building and writing back a tree, which costs 3 (one long string) to 60 (many small values) times more fuel.
   */
  private raw: ArrayBuffer | null = null;

  constructor(kind: JsonKind) {
    this._kind = kind;
    if (kind == JsonKind.Array || kind == JsonKind.Object) this.items = new Array<JsonValue>();
    if (kind == JsonKind.Object) this.names = new Array<string>();
  }

  /**
   * A value kept as a copy of the `len` bytes of JSON text at `ptr`, parsed on first inspection. The text
   * must be one JSON value (the parser checked its extent); if it does not parse, the value reads as null.
   */
  static lazy(ptr: usize, len: usize): JsonValue {
    const v = new JsonValue(JsonKind.Null);
    const raw = new ArrayBuffer(<i32>len);
    memory.copy(changetype<usize>(raw), ptr, len);
    v.raw = raw;
    return v;
  }

  get kind(): JsonKind {
    this.load();
    return this._kind;
  }

  /** The JSON text of a lazy value never inspected, else null: the serializer copies it unchanged. */
  unparsedText(): ArrayBuffer | null { return this.raw; }

  private load(): void {
    const raw = this.raw;
    if (raw == null) return;
    this.raw = null;
    const parsed = new JsonParser(changetype<usize>(raw), <usize>raw.byteLength).parseDocument();
    if (parsed == null) return;
    this._kind = parsed._kind;
    this.flag = parsed.flag;
    this.num = parsed.num;
    this.numText = parsed.numText;
    this.text = parsed.text;
    this.items = parsed.items;
    this.names = parsed.names;
  }

  static ofBool(value: bool): JsonValue {
    const v = new JsonValue(JsonKind.Bool);
    v.flag = value;
    return v;
  }

  static ofNumber(value: f64): JsonValue {
    const v = new JsonValue(JsonKind.Number);
    v.num = value;
    return v;
  }

  /** A number keeping its source text (the parser uses this). */
  static ofNumberText(value: f64, text: string): JsonValue {
    const v = new JsonValue(JsonKind.Number);
    v.num = value;
    v.numText = text;
    return v;
  }

  static ofString(value: string): JsonValue {
    const v = new JsonValue(JsonKind.String);
    v.text = value;
    return v;
  }

  isNull(): bool { return this.kind == JsonKind.Null; }
  isBool(): bool { return this.kind == JsonKind.Bool; }
  isNumber(): bool { return this.kind == JsonKind.Number; }
  isString(): bool { return this.kind == JsonKind.String; }
  isArray(): bool { return this.kind == JsonKind.Array; }
  isObject(): bool { return this.kind == JsonKind.Object; }

  /** The boolean; false for any other kind. */
  asBool(): bool { return this.kind == JsonKind.Bool && this.flag; }
  /** The number; NaN for any other kind. */
  asNumber(): f64 { return this.kind == JsonKind.Number ? this.num : NaN; }
  /** The number truncated to an integer; 0 for any other kind or a non-finite number. */
  asInt(): i64 { return this.kind == JsonKind.Number && isFinite(this.num) ? <i64>this.num : 0; }
  /** The string; "" for any other kind (use `toString()` for the JSON text of any value). */
  asString(): string { return this.kind == JsonKind.String ? this.text : ""; }
  /** Source text of a parsed number; null for a number built in the agent or an integer of up to 15 digits (it prints back the same). */
  numberText(): string | null { this.load(); return this.numText; }

  /** Elements of an array or entries of an object; 0 otherwise. */
  get length(): i32 {
    this.load();
    const items = this.items;
    return items == null ? 0 : items.length;
  }

  /** Element `index` of an array (or value of entry `index` of an object); JSON null when out of range. */
  at(index: i32): JsonValue {
    this.load();
    const items = this.items;
    if (items == null || index < 0 || index >= items.length) return JsonValue.MISSING;
    return unchecked(items[index]);
  }

  /** Key of entry `index` of an object; "" otherwise. */
  keyAt(index: i32): string {
    this.load();
    const names = this.names;
    if (names == null || index < 0 || index >= names.length) return "";
    return unchecked(names[index]);
  }

  /** Value of `key` in an object (the last one if repeated, as JSON.parse does); JSON null when absent. */
  get(key: string): JsonValue {
    const i = this.indexOf(key);
    return i < 0 ? JsonValue.MISSING : unchecked(this.items![i]);
  }

  has(key: string): bool { return this.indexOf(key) >= 0; }

  /** Sets `key` of an object (replacing an existing entry); returns this object for chaining. */
  set(key: string, value: JsonValue): JsonValue {
    assert(this.kind == JsonKind.Object, "JsonValue.set on a value that is not an object");
    const i = this.indexOf(key);
    if (i >= 0) {
      this.items![i] = value;
    } else {
      this.names!.push(key);
      this.items!.push(value);
    }
    return this;
  }

  /** Adds an entry without looking for an existing key: what the parser uses, keeping duplicates like the source. */
  append(key: string, value: JsonValue): JsonValue {
    assert(this.kind == JsonKind.Object, "JsonValue.append on a value that is not an object");
    this.names!.push(key);
    this.items!.push(value);
    return this;
  }

  /** Appends to an array; returns this array for chaining. */
  push(value: JsonValue): JsonValue {
    assert(this.kind == JsonKind.Array, "JsonValue.push on a value that is not an array");
    this.items!.push(value);
    return this;
  }

  /** Removes `key` from an object; true when it was there. */
  remove(key: string): bool {
    const i = this.indexOf(key);
    if (i < 0) return false;
    this.names!.splice(i, 1);
    this.items!.splice(i, 1);
    return true;
  }

  setString(key: string, value: string): JsonValue { return this.set(key, JsonValue.ofString(value)); }
  setNumber(key: string, value: f64): JsonValue { return this.set(key, JsonValue.ofNumber(value)); }
  /** Integers keep their exact digits, even beyond 2^53. */
  setInt(key: string, value: i64): JsonValue { return this.set(key, JsonValue.ofNumberText(<f64>value, value.toString())); }
  setBool(key: string, value: bool): JsonValue { return this.set(key, JsonValue.ofBool(value)); }

  /** Compact JSON text of this value. */
  toString(): string { return stringify(this); }

  private indexOf(key: string): i32 {
    this.load();
    const names = this.names;
    if (names == null) return -1;
    for (let i = names.length - 1; i >= 0; i--) {
      if (unchecked(names[i]) == key) return i;
    }
    return -1;
  }
}
