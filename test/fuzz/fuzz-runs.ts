// How many inputs a fuzz property runs and with which seed. The default suite runs a fixed seed and
// FUZZ_DEFAULT_RUNS inputs per boundary; `npm run fuzz` sets FUZZ_RUNS (≥ 100,000) and a fresh seed, printed
// by fast-check on failure so a crash can be replayed with FUZZ_SEED.
export const FUZZ_DEFAULT_RUNS = 1000;
export const FUZZ_DEFAULT_SEED = 20261204;

export function fuzzRuns(): number {
  const raw = process.env.FUZZ_RUNS;
  const runs = raw === undefined ? FUZZ_DEFAULT_RUNS : Number(raw);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`FUZZ_RUNS: expected a positive integer, got '${raw}'`);
  return runs;
}

export function fuzzSeed(): number {
  const raw = process.env.FUZZ_SEED;
  return raw === undefined ? FUZZ_DEFAULT_SEED : Number(raw);
}

/** fast-check parameters for one boundary: fixed seed unless FUZZ_SEED says otherwise. */
export function fuzzParameters(): { numRuns: number; seed: number; endOnFailure: true } {
  return { numRuns: fuzzRuns(), seed: fuzzSeed(), endOnFailure: true };
}

/** A generous per-test timeout for fuzz files: 1 ms per input beyond the default run, at least 60 s. */
export function fuzzTimeoutMs(perInputMs = 1): number {
  return Math.max(60_000, fuzzRuns() * perInputMs);
}

/**
 * For a property that runs for minutes at FUZZ_RUNS: awaited once per input, it lets the event loop turn
 * once in `every` inputs. A synchronous property that long starves vitest's own worker messages, and vitest
 * then fails the run with "Timeout calling onTaskUpdate" although every input passed.
 */
export function eventLoopBreather(every = 200): () => Promise<void> {
  let calls = 0;
  return () => (++calls % every === 0 ? new Promise<void>((resolve) => setImmediate(resolve)) : Promise.resolve());
}
