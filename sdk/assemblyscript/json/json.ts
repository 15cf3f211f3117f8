// The short names agent authors use to read and build JSON.
import { JsonParser } from "./parse";
import { stringify } from "./stringify";
import { JsonKind, JsonValue } from "./value";

export class Json {
  /** Parses JSON text; null when it is not exactly one valid JSON value. */
  static parse(text: string): JsonValue | null {
    const bytes = String.UTF8.encode(text);
    return Json.parseBytes(changetype<usize>(bytes), bytes.byteLength);
  }

  /** Parses `len` UTF-8 bytes at `ptr`; null when malformed. */
  static parseBytes(ptr: usize, len: i32): JsonValue | null {
    return new JsonParser(ptr, <usize>len).parseDocument();
  }

  /** Compact JSON text, as JSON.stringify writes it (parsed numbers keep their source spelling). */
  static stringify(value: JsonValue): string {
    return stringify(value);
  }

  static obj(): JsonValue { return new JsonValue(JsonKind.Object); }
  static arr(): JsonValue { return new JsonValue(JsonKind.Array); }
  static str(value: string): JsonValue { return JsonValue.ofString(value); }
  static num(value: f64): JsonValue { return JsonValue.ofNumber(value); }
  /** An integer with its exact digits, even beyond 2^53. */
  static int(value: i64): JsonValue { return JsonValue.ofNumberText(<f64>value, value.toString()); }
  static bool(value: bool): JsonValue { return JsonValue.ofBool(value); }
  static nul(): JsonValue { return new JsonValue(JsonKind.Null); }
}
