import { addSample, NO_SAMPLES, stddev } from './running-stats';

const fold = (xs: number[]) => xs.reduce(addSample, NO_SAMPLES);

describe('running statistics (Welford)', () => {
  it('gives the mean and sample standard deviation of what it has seen', () => {
    const stats = fold([2, 4, 4, 4, 5, 5, 7, 9]);

    expect(stats.samples).toBe(8);
    expect(stats.mean).toBeCloseTo(5, 12);
    expect(stddev(stats)).toBeCloseTo(Math.sqrt(32 / 7), 12);
  });

  it('reports no spread before the second sample', () => {
    expect(stddev(NO_SAMPLES)).toBe(0);
    expect(stddev(fold([42]))).toBe(0);
  });

  it('stays exact for large amounts with a small spread', () => {
    const stats = fold([1e12 + 1, 1e12 + 2, 1e12 + 3]);

    expect(stats.mean).toBe(1e12 + 2);
    expect(stddev(stats)).toBeCloseTo(1, 6);
  });

  it('does not change the statistics it was given', () => {
    const before = fold([1, 2]);
    const copy = { ...before };

    addSample(before, 100);

    expect(before).toEqual(copy);
  });
});
