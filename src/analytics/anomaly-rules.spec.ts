import { amountOutlier, cancellationBurst, ordersPerWindow, RuleThresholds } from './anomaly-rules';
import { addSample, NO_SAMPLES } from './running-stats';
import { paneOf } from './windows';

const thresholds = (overrides: Partial<RuleThresholds> = {}): RuleThresholds => ({
  amountStddevK: 3,
  amountMinSamples: 5,
  ordersPerWindowCeiling: 100,
  ordersSpikeFactor: 3,
  ordersSpikeBaselineWindows: 10,
  ordersSpikeMinOrders: 20,
  cancellationBurst: 10,
  ...overrides,
});
const statsOf = (amounts: number[]) => amounts.reduce(addSample, NO_SAMPLES);
const anOrder = (amount: number) => ({ id: 42, createdAt: '2026-11-25T10:00:00.000Z', product: 'sofa', amount });
const minute = paneOf(new Date('2026-11-25T10:00:00Z'));

describe('amount outlier rule', () => {
  const usual = statsOf([100, 110, 90, 105, 95]); // mean 100, sample stddev ≈ 7.91

  it('flags an amount more than k standard deviations above the product mean', () => {
    const finding = amountOutlier(usual, anOrder(500), thresholds());

    expect(finding).toMatchObject({ rule: 'amount_outlier', key: 'amount_outlier:order:42@2026-11-25T10:00:00.000Z', observed: 500, threshold: 123.72 });
    expect(finding!.details).toMatchObject({ samples: 5, mean: 100, k: 3 });
    expect(finding!.message).toContain('standard deviations above the mean 100 of 5 orders');
  });

  it('leaves an amount within k standard deviations alone', () => {
    expect(amountOutlier(usual, anOrder(123), thresholds())).toBeUndefined();
  });

  it('takes k from the configuration', () => {
    expect(amountOutlier(usual, anOrder(120), thresholds({ amountStddevK: 2 }))).toBeDefined();
    expect(amountOutlier(usual, anOrder(120), thresholds({ amountStddevK: 3 }))).toBeUndefined();
  });

  it('says nothing until the product has the minimum number of samples', () => {
    expect(amountOutlier(statsOf([100, 110, 90, 105]), anOrder(10_000), thresholds())).toBeUndefined();
  });

  it('never flags an amount below the mean, however far', () => {
    expect(amountOutlier(usual, anOrder(0), thresholds())).toBeUndefined();
  });

  it('flags any larger amount when every earlier amount was the same', () => {
    const flat = statsOf([100, 100, 100, 100, 100]);

    expect(amountOutlier(flat, anOrder(101), thresholds())?.details.deviations).toBeNull();
    expect(amountOutlier(flat, anOrder(100), thresholds())).toBeUndefined();
  });
});

describe('orders per window rules', () => {
  const quiet = Array.from({ length: 10 }, () => 10);

  it('flags a window above the ceiling, keyed by the window', () => {
    const findings = ordersPerWindow(minute, 101, quiet, thresholds({ ordersSpikeFactor: 1000 }));

    expect(findings).toEqual([
      expect.objectContaining({ rule: 'orders_per_window_ceiling', key: 'orders_per_window_ceiling:2026-11-25T10:00:00.000Z', observed: 101, threshold: 100 }),
    ]);
  });

  it('does not flag a window at the ceiling, and 0 turns the ceiling off', () => {
    expect(ordersPerWindow(minute, 100, quiet, thresholds({ ordersSpikeFactor: 1000 }))).toEqual([]);
    expect(ordersPerWindow(minute, 10_000, quiet, thresholds({ ordersPerWindowCeiling: 0, ordersSpikeFactor: 1000 }))).toEqual([]);
  });

  it('flags a window far above the mean of the windows before it', () => {
    const [finding] = ordersPerWindow(minute, 31, quiet, thresholds());

    expect(finding).toMatchObject({ rule: 'orders_per_window_spike', observed: 31, threshold: 30, details: { baselineMean: 10, baselineWindows: 10 } });
  });

  it('does not call a few orders after a quiet spell a spike', () => {
    expect(ordersPerWindow(minute, 20, Array.from({ length: 10 }, () => 0), thresholds())).toEqual([]);
    expect(ordersPerWindow(minute, 21, Array.from({ length: 10 }, () => 0), thresholds())).toHaveLength(1);
  });

  it('does not flag the usual rate', () => {
    expect(ordersPerWindow(minute, 30, quiet, thresholds())).toEqual([]);
  });
});

describe('cancellation burst rule', () => {
  it('flags a window with the burst number of cancellations', () => {
    expect(cancellationBurst(minute, 10, thresholds())).toMatchObject({
      rule: 'cancellation_burst',
      key: 'cancellation_burst:2026-11-25T10:00:00.000Z',
      observed: 10,
      threshold: 10,
    });
  });

  it('leaves fewer cancellations alone, and 0 turns the rule off', () => {
    expect(cancellationBurst(minute, 9, thresholds())).toBeUndefined();
    expect(cancellationBurst(minute, 500, thresholds({ cancellationBurst: 0 }))).toBeUndefined();
  });
});
