import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { appConfig, AppConfig } from '../config/app.config';
import type { OrderEventPayload } from '../events';
import type { ConsumedEvent } from '../messaging/consumer/event-consumer.service';
import { amountOutlier, cancellationBurst, Finding, ordersPerWindow } from './anomaly-rules';
import { foldOrderCancelled, foldOrderPlaced, LIVE } from './order-aggregates';
import { MINUTE_MS, TimeWindow } from './windows';

interface FindingContext {
  orderId?: number;
  product?: string;
  userId?: number | null;
  window?: TimeWindow;
  occurredAt: Date;
}

/**
 * The analytics consumer's effect: folds one order event into the persisted aggregates (the code path
 * the analytics projection rebuilds them with, `order-aggregates.ts`) and runs the anomaly rules,
 * inside the consumer pipeline's transaction (so with its inbox row: a redelivered event changes
 * nothing). Only the consumer records anomalies: a rebuild never detects, so never re-publishes.
 */
@Injectable()
export class OrderAggregator {
  constructor(@Inject(appConfig.KEY) private readonly config: AppConfig) {}

  async orderPlaced(em: EntityManager, event: ConsumedEvent<OrderEventPayload>): Promise<void> {
    const order = event.payload;
    const folded = await foldOrderPlaced(em, LIVE, order, event.occurredAt);
    if (!folded) return;

    const { at, pane, before } = folded;
    const rules = this.config.analytics.rules;
    const context = { orderId: order.id, product: order.product, userId: order.userId ?? null, occurredAt: at };
    const outlier = amountOutlier(before, { id: order.id, createdAt: order.createdAt, product: order.product, amount: order.amount }, rules);
    if (outlier) await this.record(em, outlier, context);
    const baseline = await this.placedBefore(em, pane.start, rules.ordersSpikeBaselineWindows);
    for (const finding of ordersPerWindow(pane, folded.placedInPane, baseline, rules)) {
      // About the minute, not the order that tipped it over.
      await this.record(em, finding, { window: pane, occurredAt: at });
    }
  }

  async orderCancelled(em: EntityManager, event: ConsumedEvent<OrderEventPayload>): Promise<void> {
    const folded = await foldOrderCancelled(em, LIVE, event.payload, event.occurredAt);
    if (!folded) return;

    const burst = cancellationBurst(folded.pane, folded.cancelledInPane, this.config.analytics.rules);
    if (burst) await this.record(em, burst, { window: folded.pane, occurredAt: folded.at });
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
