import type { EntityManager } from 'typeorm';
import type { OrderEventPayload } from '../events';
import type { LoggedEvent } from '../persistence/event-log/event-log.reader';
import type { Projection, ProjectionBuilder } from '../projections/projection';
import { ident } from '../projections/rows-writer';
import { AggregateTables, foldOrderEvents, LIVE_TABLES, OrderEventToFold, REBUILD, REBUILD_TABLES } from './order-aggregates';

/**
 * The analytics aggregates (orders seen, minute panes overall and per product, per-product running
 * statistics, per-user totals), rebuilt from order_placed and order_cancelled through the consumer's
 * own fold. Anomalies are not part of it: they are decisions already published as anomaly_detected, so
 * a rebuild leaves them, and the outbox, alone.
 */
export const analyticsProjection: Projection = {
  name: 'analytics',
  description: 'The analytics aggregates (minute panes, per product and per user totals, running statistics), from the order events; anomalies are kept as they are',
  tables: [
    { name: LIVE_TABLES.minutes, key: ['window_start'], columns: ['placed', 'cancelled', 'revenue'] },
    { name: LIVE_TABLES.orders, key: ['order_id', 'created_at'], columns: ['user_id', 'product', 'amount'], timestamps: ['placed_at', 'cancelled_at'] },
    { name: LIVE_TABLES.productMinutes, key: ['window_start', 'product'], columns: ['placed', 'cancelled', 'revenue'] },
    // mean and m2 are rebuilt too, but compared only through the sample count: Welford's sums are
    // exact only up to rounding, which depends on the order a product's orders were consumed in
    // (they travel on different partitions), and the log's order may differ from it.
    { name: LIVE_TABLES.productStats, key: ['product'], columns: ['samples'] },
    { name: LIVE_TABLES.users, key: ['user_id'], columns: ['orders', 'cancelled', 'spend'], timestamps: ['first_order_at', 'last_order_at'] },
  ],
  entityTypes: ['order'],
  createBuilder: () => new AnalyticsBuilder(),
};

class AnalyticsBuilder implements ProjectionBuilder {
  private pending: OrderEventToFold[] = [];

  apply(event: LoggedEvent): void {
    // The events the analytics consumer reads; order_updated and the rest change no aggregate.
    if (event.type !== 'order_placed' && event.type !== 'order_cancelled') return;
    this.pending.push({ type: event.type, payload: event.payload as unknown as OrderEventPayload, occurredAt: event.occurredAt });
  }

  /** Folds the pending events into the fresh tables, in log order, with the consumer's statements. */
  async flush(em: EntityManager, tableOf: (live: string) => string): Promise<void> {
    assertRebuildTables(tableOf);
    await foldOrderEvents(em, REBUILD, this.pending);
    this.pending = [];
  }
}

/** The fold writes only to the constant REBUILD_TABLES: refuse to run if the rebuilder means other tables. */
function assertRebuildTables(tableOf: (live: string) => string): void {
  for (const key of Object.keys(LIVE_TABLES) as (keyof AggregateTables)[]) {
    const wanted = tableOf(LIVE_TABLES[key]);
    if (wanted !== ident(REBUILD_TABLES[key])) throw new Error(`analytics projection writes to ${REBUILD_TABLES[key]}, not ${wanted}`);
  }
}
