import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { appConfig, AppConfig } from '../config/app.config';
import type { OrderEventPayload } from '../events';
import type { ConsumedEvent } from '../messaging/consumer/event-consumer.service';
import { amountOutlier, cancellationBurst, Finding, ordersPerWindow } from './anomaly-rules';
import { addSample, RunningStats } from './running-stats';
import { eventTime, MINUTE_MS, paneOf, TimeWindow } from './windows';

interface FindingContext {
  orderId?: number;
  product?: string;
  userId?: number | null;
  window?: TimeWindow;
  occurredAt: Date;
}

/**
 * The analytics consumer's effect: folds one order event into the persisted aggregates and runs the
 * anomaly rules, inside the consumer pipeline's transaction (so with its inbox row: a redelivered
 * event changes nothing). Rows are always locked in the same order — order, minute, product minute,
 * product statistics, user — so concurrent partitions never deadlock each other.
 */
@Injectable()
export class OrderAggregator {
  constructor(@Inject(appConfig.KEY) private readonly config: AppConfig) {}

  async orderPlaced(em: EntityManager, event: ConsumedEvent<OrderEventPayload>): Promise<void> {
    const order = event.payload;
    const at = eventTime(order.createdAt, event.occurredAt);
    // The same order under another event id (an outside producer re-sending it) counts once.
    const [seen] = await em.query(
      `INSERT INTO analytics_orders (order_id, created_at, user_id, product, amount, placed_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (order_id, created_at) DO UPDATE SET placed_at = EXCLUDED.placed_at WHERE analytics_orders.placed_at IS NULL
       RETURNING cancelled_at`,
      [order.id, createdAtOf(order), order.userId ?? null, order.product, order.amount, at],
    );
    if (!seen) return;

    const pane = paneOf(at);
    const [minute] = await em.query(
      `INSERT INTO analytics_minute_windows AS w (window_start, placed, revenue) VALUES ($1, 1, $2)
       ON CONFLICT (window_start) DO UPDATE SET placed = w.placed + 1, revenue = w.revenue + EXCLUDED.revenue
       RETURNING placed`,
      [pane.start, order.amount],
    );
    await em.query(
      `INSERT INTO analytics_product_minute_windows AS w (window_start, product, placed, revenue) VALUES ($1, $2, 1, $3)
       ON CONFLICT (window_start, product) DO UPDATE SET placed = w.placed + 1, revenue = w.revenue + EXCLUDED.revenue`,
      [pane.start, order.product, order.amount],
    );

    const before = await this.lockProductStats(em, order.product);
    const after = addSample(before, order.amount);
    await em.query(`UPDATE analytics_product_stats SET samples = $2, mean = $3, m2 = $4 WHERE product = $1`, [
      order.product,
      after.samples,
      after.mean,
      after.m2,
    ]);

    if (order.userId != null) {
      // An order whose cancellation arrived first adds to the count but not to the spend.
      await em.query(
        `INSERT INTO analytics_users AS u (user_id, orders, spend, first_order_at, last_order_at) VALUES ($1, 1, $2, $3, $3)
         ON CONFLICT (user_id) DO UPDATE SET orders = u.orders + 1, spend = u.spend + EXCLUDED.spend,
           first_order_at = LEAST(u.first_order_at, EXCLUDED.first_order_at),
           last_order_at = GREATEST(u.last_order_at, EXCLUDED.last_order_at)`,
        [order.userId, seen.cancelled_at ? 0 : order.amount, at],
      );
    }

    const rules = this.config.analytics.rules;
    const context = { orderId: order.id, product: order.product, userId: order.userId ?? null, occurredAt: at };
    const outlier = amountOutlier(before, { id: order.id, createdAt: order.createdAt, product: order.product, amount: order.amount }, rules);
    if (outlier) await this.record(em, outlier, context);
    const baseline = await this.placedBefore(em, pane.start, rules.ordersSpikeBaselineWindows);
    for (const finding of ordersPerWindow(pane, Number(minute.placed), baseline, rules)) {
      // About the minute, not the order that tipped it over.
      await this.record(em, finding, { window: pane, occurredAt: at });
    }
  }

  async orderCancelled(em: EntityManager, event: ConsumedEvent<OrderEventPayload>): Promise<void> {
    const order = event.payload;
    const at = eventTime(order.updatedAt, event.occurredAt);
    const [seen] = await em.query(
      `INSERT INTO analytics_orders (order_id, created_at, user_id, product, amount, cancelled_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (order_id, created_at) DO UPDATE SET cancelled_at = EXCLUDED.cancelled_at WHERE analytics_orders.cancelled_at IS NULL
       RETURNING placed_at`,
      [order.id, createdAtOf(order), order.userId ?? null, order.product, order.amount, at],
    );
    if (!seen) return;

    const pane = paneOf(at);
    const [minute] = await em.query(
      `INSERT INTO analytics_minute_windows AS w (window_start, cancelled) VALUES ($1, 1)
       ON CONFLICT (window_start) DO UPDATE SET cancelled = w.cancelled + 1
       RETURNING cancelled`,
      [pane.start],
    );
    await em.query(
      `INSERT INTO analytics_product_minute_windows AS w (window_start, product, cancelled) VALUES ($1, $2, 1)
       ON CONFLICT (window_start, product) DO UPDATE SET cancelled = w.cancelled + 1`,
      [pane.start, order.product],
    );
    if (order.userId != null) {
      // Spend counts orders that stand: take the amount back only if the placement was counted.
      await em.query(
        `INSERT INTO analytics_users AS u (user_id, cancelled) VALUES ($1, 1)
         ON CONFLICT (user_id) DO UPDATE SET cancelled = u.cancelled + 1, spend = u.spend - $2`,
        [order.userId, seen.placed_at ? order.amount : 0],
      );
    }

    const burst = cancellationBurst(pane, Number(minute.cancelled), this.config.analytics.rules);
    if (burst) await this.record(em, burst, { window: pane, occurredAt: at });
  }

  private async lockProductStats(em: EntityManager, product: string): Promise<RunningStats> {
    await em.query(`INSERT INTO analytics_product_stats (product) VALUES ($1) ON CONFLICT DO NOTHING`, [product]);
    const [row] = await em.query(`SELECT samples, mean, m2 FROM analytics_product_stats WHERE product = $1 FOR UPDATE`, [product]);
    return { samples: Number(row.samples), mean: Number(row.mean), m2: Number(row.m2) };
  }

  /** Orders placed in each of the `count` minutes before `start`; minutes without orders count as 0. */
  private async placedBefore(em: EntityManager, start: Date, count: number): Promise<number[]> {
    const from = new Date(start.getTime() - count * MINUTE_MS);
    const rows: { window_start: Date; placed: number }[] = await em.query(
      `SELECT window_start, placed FROM analytics_minute_windows WHERE window_start >= $1 AND window_start < $2`,
      [from, start],
    );
    const placed = new Map(rows.map((r) => [new Date(r.window_start).getTime(), Number(r.placed)]));
    return Array.from({ length: count }, (_, i) => placed.get(from.getTime() + i * MINUTE_MS) ?? 0);
  }

  /** Records a finding once (by its key); the publisher turns it into an anomaly_detected event. */
  private async record(em: EntityManager, f: Finding, c: FindingContext): Promise<void> {
    await em.query(
      `INSERT INTO analytics_anomalies
         (dedupe_key, rule, message, observed, threshold, order_id, product, user_id, window_start, window_end, occurred_at, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (dedupe_key) DO NOTHING`,
      [
        f.key,
        f.rule,
        f.message,
        f.observed,
        f.threshold,
        c.orderId ?? null,
        c.product ?? null,
        c.userId ?? null,
        c.window?.start ?? null,
        c.window?.end ?? null,
        c.occurredAt,
        JSON.stringify(f.details),
      ],
    );
  }
}

/** The order's identity beside its id (see the analytics migration); -infinity when the event has none. */
function createdAtOf(order: OrderEventPayload): Date | string {
  const t = order.createdAt ? new Date(order.createdAt) : undefined;
  return t && !Number.isNaN(t.getTime()) ? t : '-infinity';
}
