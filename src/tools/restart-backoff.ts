// How long a server that exited or failed to start waits before the next start: doubled per consecutive
// failure, capped, so a crashing server costs a bounded number of forks however many calls ask for it.

/** The wait before start attempt number `failures + 1` (failures >= 1), in ms. */
export function restartDelayMs(failures: number, initialMs: number, maxMs: number): number {
  if (failures <= 0) return 0;
  const cap = Math.max(initialMs, maxMs);
  // 2^30 × anything useful is beyond any cap: stop doubling before the number grows unbounded.
  const exponent = Math.min(failures - 1, 30);
  return Math.min(cap, initialMs * 2 ** exponent);
}
