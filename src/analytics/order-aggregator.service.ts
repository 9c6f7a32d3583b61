import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { appConfig, AppConfig } from '../config/app.config';
import type { OrderEventPayload } from '../events';
import type { ConsumedEvent } from '../messaging/consumer/event-consumer.service';
import { amountOutlier, cancellationBurst, Finding, ordersPerWindow } from './anomaly-rules';
import { collectBeforeCommit } from '../persistence/transaction-hooks';
import { CommittedWork } from '../messaging/wake-signal';
import { CancellationFolded, foldOrderEvents, LIVE, OrderEventToFold, PlacementFolded } from './order-aggregates';
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
  /** A new anomaly was recorded: the publisher has something to publish once the transaction commits. */
  readonly raised = new CommittedWork();

  constructor(@Inject(appConfig.KEY) private readonly config: AppConfig) {}

  async orderPlaced(em: EntityManager, event: ConsumedEvent<OrderEventPayload>): Promise<void> {
    this.collect(em, { type: 'order_placed', payload: event.payload, occurredAt: event.occurredAt });
  }

  async orderCancelled(em: EntityManager, event: ConsumedEvent<OrderEventPayload>): Promise<void> {
    this.collect(em, { type: 'order_cancelled', payload: event.payload, occurredAt: event.occurredAt });
  }

  /** The transaction's events are folded together just before it commits (a handful of statements, not seven per order). */
  private collect(em: EntityManager, event: OrderEventToFold): void {
    collectBeforeCommit(em, 'analytics', event, (events) => this.fold(em, events));
  }

  /** Folds the events, then runs the rules on each as if it had been folded alone, in order. */
  private async fold(em: EntityManager, events: OrderEventToFold[]): Promise<void> {
    const folded = await foldOrderEvents(em, LIVE, events);
    const rules = this.config.analytics.rules;
    const baselines = await this.baselines(em, events, folded, rules.ordersSpikeBaselineWindows);
    // A finding is recorded once by its key: the first event that raises it is the one that counts.
    const findings = new Map<string, { finding: Finding; context: FindingContext }>();
    const record = (finding: Finding, context: FindingContext) => {
      if (!findings.has(finding.key)) findings.set(finding.key, { finding, context });
    };
    for (const [i, event] of events.entries()) {
      const result = folded[i];
      if (!result) continue;
      if (event.type === 'order_cancelled') {
        const { pane, at, cancelledInPane } = result as CancellationFolded;
        const burst = cancellationBurst(pane, cancelledInPane, rules);
        if (burst) record(burst, { window: pane, occurredAt: at });
        continue;
      }
      const order = event.payload;
      const { at, pane, before, placedInPane } = result as PlacementFolded;
      const outlier = amountOutlier(before, { id: order.id, createdAt: order.createdAt, product: order.product, amount: order.amount }, rules);
      if (outlier) record(outlier, { orderId: order.id, product: order.product, userId: order.userId ?? null, occurredAt: at });
      for (const finding of ordersPerWindow(pane, placedInPane, baselines[i], rules)) {
        // About the minute, not the order that tipped it over.
        record(finding, { window: pane, occurredAt: at });
      }
    }
    await this.recordAll(em, [...findings.values()]);
  }

  /**
   * Per placement, the orders placed in each of the `count` minutes before its minute (0 where none),
   * as they stood when it was folded: read once after the batch, less the batch's later placements.
   */
  private async baselines(em: EntityManager, events: OrderEventToFold[], folded: (PlacementFolded | CancellationFolded | undefined)[], count: number): Promise<number[][]> {
    const placements = events.flatMap((e, i) => (e.type === 'order_placed' && folded[i] ? [{ i, start: (folded[i] as PlacementFolded).pane.start.getTime() }] : []));
    const result: number[][] = [];
    if (placements.length === 0) return result;
    const starts = placements.map((p) => p.start);
    const rows: { window_start: Date; placed: number }[] = await em.query(
      `SELECT window_start, placed FROM analytics_minute_windows WHERE window_start >= $1 AND window_start < $2`,
      [new Date(Math.min(...starts) - count * MINUTE_MS), new Date(Math.max(...starts))],
    );
    const placed = new Map(rows.map((r) => [new Date(r.window_start).getTime(), Number(r.placed)]));
    const later = new Map<number, number>();
    for (const { i, start } of placements.reverse()) {
      result[i] = Array.from({ length: count }, (_, j) => {
        const minute = start - (count - j) * MINUTE_MS;
        return (placed.get(minute) ?? 0) - (later.get(minute) ?? 0);
      });
      later.set(start, (later.get(start) ?? 0) + 1);
    }
    return result;
  }

  /**
   * Records the findings once each (by key), in the order they were found, in one statement: a round
   * trip per finding kept the consumer's transaction, and with it every consumer's next fetch, waiting
   * on a busy event loop. The publisher turns each into an anomaly_detected event.
   */
  private async recordAll(em: EntityManager, findings: { finding: Finding; context: FindingContext }[]): Promise<void> {
    if (findings.length === 0) return;
    const column = <T>(pick: (f: Finding, c: FindingContext) => T) => findings.map(({ finding, context }) => pick(finding, context));
    const inserted: unknown[] = await em.query(
      `INSERT INTO analytics_anomalies
         (dedupe_key, rule, message, observed, threshold, order_id, product, user_id, window_start, window_end, occurred_at, details)
       SELECT dedupe_key, rule, message, observed, threshold, order_id, product, user_id, window_start, window_end, occurred_at, details
         FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::float8[], $6::bigint[], $7::text[], $8::bigint[],
                     $9::timestamptz[], $10::timestamptz[], $11::timestamptz[], $12::jsonb[])
              WITH ORDINALITY AS f(dedupe_key, rule, message, observed, threshold, order_id, product, user_id, window_start, window_end, occurred_at, details, n)
        ORDER BY n
       ON CONFLICT (dedupe_key) DO NOTHING
       RETURNING 1`,
      [
        column((f) => f.key),
        column((f) => f.rule),
        column((f) => f.message),
        column((f) => f.observed),
        column((f) => f.threshold),
        column((_f, c) => c.orderId ?? null),
        column((_f, c) => c.product ?? null),
        column((_f, c) => c.userId ?? null),
        column((_f, c) => c.window?.start ?? null),
        column((_f, c) => c.window?.end ?? null),
        column((_f, c) => c.occurredAt),
        column((f) => JSON.stringify(f.details)),
      ],
    );
    if (inserted.length > 0) this.raised.note();
  }
}
