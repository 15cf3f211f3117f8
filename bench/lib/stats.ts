// Percentiles and medians for benchmark figures (nanosecond samples in, microseconds out).

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return percentile(sorted, 50);
}

/** Sorts in place and returns {p50, p99} in microseconds from nanosecond samples. */
export function latencyMicros(samplesNs: Float64Array): { p50_us: number; p99_us: number } {
  samplesNs.sort();
  return { p50_us: round(percentile(samplesNs, 50) / 1000), p99_us: round(percentile(samplesNs, 99) / 1000) };
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
