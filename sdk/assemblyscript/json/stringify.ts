// JSON text of a JsonValue, compact like JSON.stringify, written as UTF-8 into a ByteWriter.
import { ByteWriter } from "./byte-writer";
import { formatNumber } from "./number-format";
import { JsonKind, JsonValue } from "./value";

const textWriter = new ByteWriter();

/** Compact JSON text of `v`, as JSON.stringify writes it (parsed numbers keep their source spelling). */
export function stringify(v: JsonValue): string {
  textWriter.reset();
  writeJson(textWriter, v);
  const text = textWriter.toString();
  textWriter.reset();
  return text;
}

export function writeNumber(w: ByteWriter, n: f64): void {
  w.ascii(formatNumber(n));
}

export function writeJson(w: ByteWriter, v: JsonValue): void {
  const unparsed = v.unparsedText();
  if (unparsed != null) {
    w.bytes(changetype<usize>(unparsed), unparsed.byteLength);
    return;
  }
  switch (v.kind) {
    case JsonKind.Null: w.ascii("null"); break;
    case JsonKind.Bool: w.ascii(v.asBool() ? "true" : "false"); break;
    case JsonKind.Number: {
      const text = v.numberText();
      if (text != null) w.ascii(text);
      else writeNumber(w, v.asNumber());
      break;
    }
    case JsonKind.String: w.jsonString(v.asString()); break;
    case JsonKind.Array: {
      w.byte(0x5B);
      for (let i = 0, n = v.length; i < n; i++) {
        if (i > 0) w.byte(0x2C);
        writeJson(w, v.at(i));
      }
      w.byte(0x5D);
      break;
    }
    default: {
      w.byte(0x7B);
      for (let i = 0, n = v.length; i < n; i++) {
        if (i > 0) w.byte(0x2C);
        w.jsonString(v.keyAt(i));
        w.byte(0x3A);
        writeJson(w, v.at(i));
      }
      w.byte(0x7D);
    }
  }
}
