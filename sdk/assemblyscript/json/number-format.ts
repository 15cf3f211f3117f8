// Double → text exactly as JavaScript's Number#toString writes it (the shortest digits that read back as the
// same double, laid out with JavaScript's rules). AssemblyScript's own f64#toString (Grisu2) is not used: it
// sometimes prints digits that read back as a different double.
import { BigNat } from "./big-nat";
import { decimalToDouble } from "./number-parse";

/** 2^53: below it every integral double prints exactly as an integer. */
const EXACT_INTEGER_LIMIT: f64 = 9007199254740992.0;
/** The smallest positive normal double, 2^-1022. */
const MIN_NORMAL: f64 = 2.2250738585072014e-308;

/** `digits` rounded to `p` significant digits (half to even), trailing zeros dropped; carry[0] = 1 when the
 *  rounding added a digit in front (999… → 1000…). */
function roundTo(digits: Array<u8>, p: i32, carry: StaticArray<i32>): Array<u8> {
  carry[0] = 0;
  const out = digits.slice(0, p);
  if (digits.length <= p) {
    while (out.length > 1 && out[out.length - 1] == 0) out.pop();
    return out;
  }
  const next = digits[p];
  let restNonZero = false;
  for (let i = p + 1; i < digits.length; i++) if (digits[i] != 0) { restNonZero = true; break; }
  const roundUp = next > 5 || (next == 5 && (restNonZero || (out[p - 1] & 1) == 1));
  if (roundUp) {
    let i = p - 1;
    while (i >= 0 && out[i] == 9) { out[i] = 0; i--; }
    if (i >= 0) {
      out[i]++;
    } else {
      out.unshift(1);
      out.pop();
      carry[0] = 1;
    }
  }
  while (out.length > 1 && out[out.length - 1] == 0) out.pop();
  return out;
}

function layout(digits: Array<u8>, n: i32): string {
  const k = digits.length;
  let s = "";
  if (k <= n && n <= 21) {
    for (let i = 0; i < k; i++) s += String.fromCharCode(0x30 + digits[i]);
    for (let i = k; i < n; i++) s += "0";
  } else if (0 < n && n <= 21) {
    for (let i = 0; i < k; i++) {
      if (i == n) s += ".";
      s += String.fromCharCode(0x30 + digits[i]);
    }
  } else if (-6 < n && n <= 0) {
    s = "0.";
    for (let i = 0; i < -n; i++) s += "0";
    for (let i = 0; i < k; i++) s += String.fromCharCode(0x30 + digits[i]);
  } else {
    s = String.fromCharCode(0x30 + digits[0]);
    if (k > 1) {
      s += ".";
      for (let i = 1; i < k; i++) s += String.fromCharCode(0x30 + digits[i]);
    }
    const e = n - 1;
    s += e < 0 ? "e-" + (-e).toString() : "e+" + e.toString();
  }
  return s;
}

/** The text JavaScript's String(value) gives, except "null" for NaN and infinities (as JSON.stringify). */
export function formatNumber(value: f64): string {
  if (!isFinite(value)) return "null";
  if (value == 0) return "0";
  if (Math.floor(value) == value && Math.abs(value) < EXACT_INTEGER_LIMIT) return (<i64>value).toString();
  const negative = value < 0;
  const x = Math.abs(value);
  // The exact decimal expansion of x = m × 2^e: digits × 10^exp10.
  const bits = reinterpret<u64>(x);
  const biased = <i32>(bits >> 52);
  const fraction = bits & 0xFFFFFFFFFFFFF;
  const m: u64 = biased == 0 ? fraction : fraction | 0x10000000000000;
  const e: i32 = biased == 0 ? -1074 : biased - 1075;
  const exact = BigNat.of(m);
  let exp10: i32 = 0;
  if (e >= 0) {
    exact.shiftLeft(e);
  } else {
    exact.mulPow5(-e); // m / 2^-e = m × 5^-e / 10^-e
    exp10 = e;
  }
  const digits = exact.toDigits();
  const carry = new StaticArray<i32>(1);
  // The fewest significant digits that read back as x; 17 always do. For a normal double, a shorter answer
  // shows up at 15 digits as trailing zeros (its spacing is far below 15 digits'); subnormals search from 1.
  for (let p = x < MIN_NORMAL ? 1 : 15; p <= 17; p++) {
    const rounded = roundTo(digits, p, carry);
    // rounded × 10^(point - its length) ≈ x, where point is where the decimal point falls.
    const point = digits.length + exp10 + carry[0];
    if (p == 17 || decimalToDouble(rounded, point - rounded.length) == x) {
      const text = layout(rounded, point);
      return negative ? "-" + text : text;
    }
  }
  unreachable();
  return "";
}
