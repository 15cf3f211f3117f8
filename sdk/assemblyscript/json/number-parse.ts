// Decimal → double, correctly rounded (ties to even), as JavaScript reads JSON numbers. AssemblyScript's own
// parseFloat can be far off (it reads "1.0778244951721467e+48" as about 1.08e38), so it is not used.
// Short numbers take Clinger's exact fast path; the rest start from a close estimate and are corrected by
// comparing the decimal exactly with the halfway points between neighbouring doubles.
import { BigNat } from "./big-nat";

/** Longer significands are not corrected exactly (no real message carries such numbers). */
const MAX_EXACT_DIGITS: i32 = 800;

// @ts-ignore: decorator
@lazy const POW10: StaticArray<f64> = [
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
  1e20, 1e21, 1e22,
];

/** The double nearest to the JSON number `text` (already validated by the parser). */
export function parseJsonNumber(text: string): f64 {
  const negative = text.charCodeAt(0) == 0x2D;
  const digits = new Array<u8>();
  let exp10: i32 = 0;
  let i = negative ? 1 : 0;
  const n = text.length;
  let seenPoint = false;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c == 0x2E) { seenPoint = true; continue; }
    if (c < 0x30 || c > 0x39) break;
    if (seenPoint) exp10--;
    if (digits.length == 0 && c == 0x30) continue; // leading zeros
    digits.push(<u8>(c - 0x30));
  }
  if (i < n) { // exponent: e or E, optional sign, digits
    i++;
    let expNegative = false;
    const sign = text.charCodeAt(i);
    if (sign == 0x2B || sign == 0x2D) { expNegative = sign == 0x2D; i++; }
    let e: i32 = 0;
    for (; i < n; i++) { if (e < 100000) e = e * 10 + (text.charCodeAt(i) - 0x30); }
    exp10 += expNegative ? -e : e;
  }
  const value = decimalToDouble(digits, exp10);
  return negative ? -value : value;
}

/** The double nearest to digits × 10^exp10 (digits most significant first, no leading zeros). */
export function decimalToDouble(digits: Array<u8>, exp10: i32): f64 {
  let count = digits.length;
  while (count > 0 && digits[count - 1] == 0) { count--; exp10++; }
  if (count == 0) return 0;
  if (count + exp10 > 310) return Infinity;
  if (count + exp10 < -330) return 0;
  if (count <= 15 && exp10 >= -22 && exp10 <= 22) {
    // Exact significand times an exact power of ten: one rounding, so correctly rounded.
    let m: f64 = 0;
    for (let d = 0; d < count; d++) m = m * 10 + <f64>unchecked(digits[d]);
    return exp10 >= 0 ? m * unchecked(POW10[exp10]) : m / unchecked(POW10[-exp10]);
  }
  // Estimate from the first 19 digits (a few units in the last place off at most), then correct.
  const used = count < 19 ? count : 19;
  let m: u64 = 0;
  for (let d = 0; d < used; d++) m = m * 10 + <u64>unchecked(digits[d]);
  let k = exp10 + (count - used);
  let x = <f64>m;
  if (k > 0) {
    x *= Math.pow(10, <f64>k);
  } else if (k < 0) {
    if (k < -300) { x /= 1e300; k += 300; }
    x /= Math.pow(10, <f64>-k);
  }
  if (!isFinite(x)) x = F64.MAX_VALUE;
  if (count > MAX_EXACT_DIGITS) return x;
  const significand = new BigNat();
  for (let d = 0; d < count; d++) significand.mulAdd(10, unchecked(digits[d]));
  return correct(x, significand, exp10);
}

/** Compares significand × 10^exp10 with k × 2^exp2. */
function compareExact(significand: BigNat, exp10: i32, k: u64, exp2: i32): i32 {
  const a = new BigNat();
  a.limbs = significand.limbs.slice(0);
  const b = BigNat.of(k);
  if (exp10 >= 0) a.mulPow10(exp10); else b.mulPow10(-exp10);
  if (exp2 >= 0) b.shiftLeft(exp2); else a.shiftLeft(-exp2);
  return BigNat.compare(a, b);
}

/** Moves the estimate `x` to the double nearest significand × 10^exp10, one double at a time. */
function correct(x: f64, significand: BigNat, exp10: i32): f64 {
  for (let step = 0; step < 64; step++) {
    if (!isFinite(x)) return x;
    const bits = reinterpret<u64>(x);
    const biased = <i32>(bits >> 52);
    const fraction = bits & 0xFFFFFFFFFFFFF;
    const m: u64 = biased == 0 ? fraction : fraction | 0x10000000000000;
    const e: i32 = biased == 0 ? -1074 : biased - 1075;
    // At or past the halfway point to the next double up (ties go to the even one)?
    const up = compareExact(significand, exp10, 2 * m + 1, e - 1);
    if (up > 0 || (up == 0 && (m & 1) == 1)) { x = reinterpret<f64>(bits + 1); continue; }
    if (m == 0) return x;
    // Past the halfway point to the next double down (nearer when x is a power of two)?
    const atBoundary = fraction == 0 && biased > 1;
    const down = atBoundary
      ? compareExact(significand, exp10, 4 * m - 1, e - 2)
      : compareExact(significand, exp10, 2 * m - 1, e - 1);
    if (down < 0 || (down == 0 && (m & 1) == 1)) { x = reinterpret<f64>(bits - 1); continue; }
    return x;
  }
  return x;
}
