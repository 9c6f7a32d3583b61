import type { AnomalyRule } from '../events';
import { RunningStats, stddev } from './running-stats';
import type { TimeWindow } from './windows';

/** Thresholds of the anomaly rules (ANALYTICS_* settings). */
export interface RuleThresholds {
  amountStddevK: number;
  amountMinSamples: number;
  /** 0 turns the rule off. */
  ordersPerWindowCeiling: number;
  ordersSpikeFactor: number;
  ordersSpikeBaselineWindows: number;
  ordersSpikeMinOrders: number;
  /** 0 turns the rule off. */
  cancellationBurst: number;
}

/** What a rule found. `key` names the thing it is about, so the same finding is recorded once. */
export interface Finding {
  rule: AnomalyRule;
  key: string;
  message: string;
  observed: number;
  threshold: number;
  details: Record<string, number | null>;
}

export interface PlacedOrder {
  id: number;
  /** With the id, names the order (ids can come round again after a database reset). */
  createdAt?: string;
  product: string;
  amount: number;
}

/**
 * An amount far above its product's running mean: more than k standard deviations above it, once the
 * product has `amountMinSamples` orders. `before` are the statistics without this order. When every
 * earlier amount was equal (no spread), any larger amount is far above.
 */
export function amountOutlier(before: RunningStats, order: PlacedOrder, t: RuleThresholds): Finding | undefined {
  if (before.samples < t.amountMinSamples) return undefined;
  const sd = stddev(before);
  const threshold = before.mean + t.amountStddevK * sd;
  if (order.amount <= threshold) return undefined;
  const deviations = sd > 0 ? (order.amount - before.mean) / sd : null;
  const how = deviations === null ? 'above every earlier amount' : `${round(deviations)} standard deviations above`;
  return {
    rule: 'amount_outlier',
    key: `amount_outlier:order:${order.id}@${order.createdAt ?? ''}`,
    message: `order ${order.id} of ${order.product}: amount ${order.amount} is ${how} the mean ${round(before.mean)} of ${before.samples} orders`,
    observed: order.amount,
    threshold: round(threshold),
    details: { samples: before.samples, mean: round(before.mean), stddev: round(sd), k: t.amountStddevK, deviations: deviations === null ? null : round(deviations) },
  };
}

/**
 * Orders placed in a one-minute window: above a fixed ceiling, or far above the recent mean (more
 * than `ordersSpikeFactor` times the mean of the `baseline` windows just before, and more than
 * `ordersSpikeMinOrders`, so a few orders after a quiet spell are no spike).
 */
export function ordersPerWindow(window: TimeWindow, placed: number, baseline: number[], t: RuleThresholds): Finding[] {
  const findings: Finding[] = [];
  const at = window.start.toISOString();
  if (t.ordersPerWindowCeiling > 0 && placed > t.ordersPerWindowCeiling) {
    findings.push({
      rule: 'orders_per_window_ceiling',
      key: `orders_per_window_ceiling:${at}`,
      message: `${placed} orders placed in the minute from ${at}, above the ceiling of ${t.ordersPerWindowCeiling}`,
      observed: placed,
      threshold: t.ordersPerWindowCeiling,
      details: { ceiling: t.ordersPerWindowCeiling },
    });
  }
  const mean = baseline.length === 0 ? 0 : baseline.reduce((a, b) => a + b, 0) / baseline.length;
  const threshold = Math.max(t.ordersSpikeFactor * mean, t.ordersSpikeMinOrders);
  if (placed > threshold) {
    findings.push({
      rule: 'orders_per_window_spike',
      key: `orders_per_window_spike:${at}`,
      message: `${placed} orders placed in the minute from ${at}, more than ${t.ordersSpikeFactor}× the mean of ${round(mean)} over the previous ${baseline.length} minutes`,
      observed: placed,
      threshold: round(threshold),
      details: { baselineMean: round(mean), baselineWindows: baseline.length, factor: t.ordersSpikeFactor, minOrders: t.ordersSpikeMinOrders },
    });
  }
  return findings;
}

/** A burst of cancellations: at least `cancellationBurst` in one one-minute window. */
export function cancellationBurst(window: TimeWindow, cancelled: number, t: RuleThresholds): Finding | undefined {
  if (t.cancellationBurst <= 0 || cancelled < t.cancellationBurst) return undefined;
  const at = window.start.toISOString();
  return {
    rule: 'cancellation_burst',
    key: `cancellation_burst:${at}`,
    message: `${cancelled} orders cancelled in the minute from ${at} (burst threshold ${t.cancellationBurst})`,
    observed: cancelled,
    threshold: t.cancellationBurst,
    details: { burst: t.cancellationBurst },
  };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
