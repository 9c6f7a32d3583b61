/** Latency figures every section reports, in milliseconds. */
export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array (q in 0..1). */
function rank(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export function percentiles(values: number[]): Percentiles {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: round(rank(sorted, 0.5)),
    p95: round(rank(sorted, 0.95)),
    p99: round(rank(sorted, 0.99)),
    max: round(sorted.length ? sorted[sorted.length - 1] : Number.NaN),
  };
}

/** Nestream ÷ baseline, to two decimals; NaN when either side is missing. */
export function ratio(nestream: number, baseline: number): number {
  if (!Number.isFinite(nestream) || !Number.isFinite(baseline) || baseline === 0) return Number.NaN;
  return round(nestream / baseline, 2);
}

export function ratios(n: Percentiles, b: Percentiles): { p50: number; p95: number; p99: number } {
  return { p50: ratio(n.p50, b.p50), p95: ratio(n.p95, b.p95), p99: ratio(n.p99, b.p99) };
}

export function round(value: number, digits = 1): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
