// A small seeded PRNG (xoshiro128**, seeded through splitmix32): the simulator's only source of chance,
// so the same seed gives the same run.

export type Rng = () => number;

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** A generator of uniform numbers in [0, 1). */
export function xoshiro128(seed: number): Rng {
  const init = splitmix32(seed);
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  return () => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result / 4294967296;
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Derives an independent generator (one per node) from a parent. */
export function fork(parent: Rng): Rng {
  return xoshiro128(Math.floor(parent() * 4294967296));
}

/** Exponentially distributed with the given mean. */
export function exponential(random: Rng, mean: number): number {
  return -Math.log(1 - random()) * mean;
}
