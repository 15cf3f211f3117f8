// A small arbitrary-precision natural number: just what exact decimal <-> double conversion needs.

export class BigNat {
  /** Little-endian base-2^32 limbs. */
  limbs: Array<u32> = new Array<u32>();

  static of(value: u64): BigNat {
    const n = new BigNat();
    if (value != 0) n.limbs.push(<u32>value);
    if ((value >> 32) != 0) n.limbs.push(<u32>(value >> 32));
    return n;
  }

  /** this = this * factor + add */
  mulAdd(factor: u32, add: u32): void {
    let carry: u64 = add;
    const limbs = this.limbs;
    for (let i = 0; i < limbs.length; i++) {
      const v = <u64>unchecked(limbs[i]) * <u64>factor + carry;
      unchecked(limbs[i] = <u32>v);
      carry = v >> 32;
    }
    if (carry != 0) limbs.push(<u32>carry);
  }

  mulPow10(exp: i32): void {
    while (exp >= 9) { this.mulAdd(1000000000, 0); exp -= 9; }
    let f: u32 = 1;
    while (exp-- > 0) f *= 10;
    if (f > 1) this.mulAdd(f, 0);
  }

  mulPow5(exp: i32): void {
    while (exp >= 13) { this.mulAdd(1220703125, 0); exp -= 13; }
    let f: u32 = 1;
    while (exp-- > 0) f *= 5;
    if (f > 1) this.mulAdd(f, 0);
  }

  shiftLeft(bits: i32): void {
    const words = bits >> 5;
    const rest = bits & 31;
    const limbs = this.limbs;
    if (rest != 0) {
      let carry: u32 = 0;
      for (let i = 0; i < limbs.length; i++) {
        const v = unchecked(limbs[i]);
        unchecked(limbs[i] = (v << rest) | carry);
        carry = v >> (32 - rest);
      }
      if (carry != 0) limbs.push(carry);
    }
    if (words > 0 && limbs.length > 0) this.limbs = new Array<u32>(words).concat(this.limbs);
  }

  /** this = this / divisor; returns the remainder. */
  divSmall(divisor: u32): u32 {
    const limbs = this.limbs;
    let rem: u64 = 0;
    for (let i = limbs.length - 1; i >= 0; i--) {
      const cur = (rem << 32) | <u64>unchecked(limbs[i]);
      unchecked(limbs[i] = <u32>(cur / divisor));
      rem = cur % divisor;
    }
    while (limbs.length > 0 && limbs[limbs.length - 1] == 0) limbs.pop();
    return <u32>rem;
  }

  /** Decimal digits, most significant first, no leading zeros ("" for zero). Consumes this number. */
  toDigits(): Array<u8> {
    const chunks = new Array<u32>();
    while (this.limbs.length > 0) chunks.push(this.divSmall(1000000000));
    const digits = new Array<u8>();
    for (let i = chunks.length - 1; i >= 0; i--) {
      let chunk = chunks[i];
      const group = new Array<u8>(9);
      for (let j = 8; j >= 0; j--) { group[j] = <u8>(chunk % 10); chunk /= 10; }
      for (let j = 0; j < 9; j++) {
        if (digits.length == 0 && group[j] == 0) continue;
        digits.push(group[j]);
      }
    }
    return digits;
  }

  /** -1, 0 or 1 as a < b, a == b, a > b. */
  static compare(a: BigNat, b: BigNat): i32 {
    const x = a.limbs;
    const y = b.limbs;
    let n = x.length;
    let m = y.length;
    while (n > 0 && x[n - 1] == 0) n--;
    while (m > 0 && y[m - 1] == 0) m--;
    if (n != m) return n < m ? -1 : 1;
    for (let i = n - 1; i >= 0; i--) {
      const p = unchecked(x[i]);
      const q = unchecked(y[i]);
      if (p != q) return p < q ? -1 : 1;
    }
    return 0;
  }
}
