import { performance } from 'node:perf_hooks';

/**
 * Wall-clock milliseconds with sub-millisecond precision. Every process of the benchmark (and
 * PostgreSQL's now()) reads the same system clock, so times taken in different processes compare.
 */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export { waitFor } from '../../test/support/wait-for';
