/**
 * Welford's online mean and variance: one pass, numerically stable, and three numbers to persist
 * per product, so the statistics survive a restart without re-reading every order.
 */
export interface RunningStats {
  samples: number;
  mean: number;
  /** Sum of squared deviations from the mean. */
  m2: number;
}

export const NO_SAMPLES: RunningStats = { samples: 0, mean: 0, m2: 0 };

export function addSample(stats: RunningStats, x: number): RunningStats {
  const samples = stats.samples + 1;
  const delta = x - stats.mean;
  const mean = stats.mean + delta / samples;
  return { samples, mean, m2: stats.m2 + delta * (x - mean) };
}

/** Sample standard deviation (n − 1); 0 until there are two samples. */
export function stddev(stats: RunningStats): number {
  return stats.samples < 2 ? 0 : Math.sqrt(Math.max(0, stats.m2) / (stats.samples - 1));
}
