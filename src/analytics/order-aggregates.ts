import type { EntityManager } from 'typeorm';
import type { OrderEventPayload } from '../events';
import { oncePerTransaction } from '../persistence/transaction-lock';
import { ident } from '../projections/rows-writer';
import { addSample, RunningStats } from './running-stats';
import { eventTime, paneOf, TimeWindow } from './windows';

/**
 * The aggregates an order event folds into, written by one code path for both the analytics consumer
 * (the live tables) and the analytics projection (the fresh tables a rebuild fills). Anomalies are not
 * here: they are decisions published as events, taken by the consumer only (see OrderAggregator).
 */
export interface AggregateTables {
  orders: string;
  minutes: string;
  productMinutes: string;
  productStats: string;
  users: string;
}

export const LIVE_TABLES: AggregateTables = {
  orders: 'analytics_orders',
  minutes: 'analytics_minute_windows',
  productMinutes: 'analytics_product_minute_windows',
  productStats: 'analytics_product_stats',
  users: 'analytics_users',
};

/** The rebuild's fresh copies (`<live>__rebuild`, as ProjectionRebuilder names them). */
export const REBUILD_TABLES: AggregateTables = {
  orders: 'analytics_orders__rebuild',
  minutes: 'analytics_minute_windows__rebuild',
  productMinutes: 'analytics_product_minute_windows__rebuild',
  productStats: 'analytics_product_stats__rebuild',
  users: 'analytics_users__rebuild',
};

/** The SQL of the fold for one set of tables. Only the two constant sets above ever get here. */
export interface AggregateStatements {
  readonly tables: AggregateTables;
  lockTables: string;
  placeOrder: string;
  cancelOrder: string;
  addPlacedToMinute: string;
  addPlacedToProductMinute: string;
  addCancelledToMinute: string;
  addCancelledToProductMinute: string;
  lockProductStats: string;
  updateProductStats: string;
  addPlacedToUser: string;
  addCancelledToUser: string;
}

function statementsFor(tables: AggregateTables): AggregateStatements {
  const [orders, minutes, productMinutes, productStats, users] = [tables.orders, tables.minutes, tables.productMinutes, tables.productStats, tables.users].map(ident);
  return {
    tables,
    // Table locks in name order, the order a rebuild locks the live tables in before swapping them, so
    // a consumer and a rebuild queue behind each other instead of deadlocking (these modes share).
    lockTables: `LOCK TABLE ${[minutes, orders, productMinutes, productStats, users].join(', ')} IN ROW EXCLUSIVE MODE`,
    placeOrder: `INSERT INTO ${orders} (order_id, created_at, user_id, product, amount, placed_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (order_id, created_at) DO UPDATE SET placed_at = EXCLUDED.placed_at WHERE ${orders}.placed_at IS NULL
       RETURNING cancelled_at`,
    cancelOrder: `INSERT INTO ${orders} (order_id, created_at, user_id, product, amount, cancelled_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (order_id, created_at) DO UPDATE SET cancelled_at = EXCLUDED.cancelled_at WHERE ${orders}.cancelled_at IS NULL
       RETURNING placed_at`,
    addPlacedToMinute: `INSERT INTO ${minutes} AS w (window_start, placed, revenue) VALUES ($1, 1, $2)
       ON CONFLICT (window_start) DO UPDATE SET placed = w.placed + 1, revenue = w.revenue + EXCLUDED.revenue
       RETURNING placed`,
    addPlacedToProductMinute: `INSERT INTO ${productMinutes} AS w (window_start, product, placed, revenue) VALUES ($1, $2, 1, $3)
       ON CONFLICT (window_start, product) DO UPDATE SET placed = w.placed + 1, revenue = w.revenue + EXCLUDED.revenue`,
    addCancelledToMinute: `INSERT INTO ${minutes} AS w (window_start, cancelled) VALUES ($1, 1)
       ON CONFLICT (window_start) DO UPDATE SET cancelled = w.cancelled + 1
       RETURNING cancelled`,
    addCancelledToProductMinute: `INSERT INTO ${productMinutes} AS w (window_start, product, cancelled) VALUES ($1, $2, 1)
       ON CONFLICT (window_start, product) DO UPDATE SET cancelled = w.cancelled + 1`,
    // Creates the row if missing, else locks it (a no-op update), and answers its values before this order.
    lockProductStats: `INSERT INTO ${productStats} AS p (product) VALUES ($1)
       ON CONFLICT (product) DO UPDATE SET product = p.product
       RETURNING samples, mean, m2`,
    updateProductStats: `UPDATE ${productStats} SET samples = $2, mean = $3, m2 = $4 WHERE product = $1`,
    addPlacedToUser: `INSERT INTO ${users} AS u (user_id, orders, spend, first_order_at, last_order_at) VALUES ($1, 1, $2, $3, $3)
         ON CONFLICT (user_id) DO UPDATE SET orders = u.orders + 1, spend = u.spend + EXCLUDED.spend,
           first_order_at = LEAST(u.first_order_at, EXCLUDED.first_order_at),
           last_order_at = GREATEST(u.last_order_at, EXCLUDED.last_order_at)`,
    addCancelledToUser: `INSERT INTO ${users} AS u (user_id, cancelled) VALUES ($1, 1)
         ON CONFLICT (user_id) DO UPDATE SET cancelled = u.cancelled + 1, spend = u.spend - $2`,
  };
}

export const LIVE: AggregateStatements = statementsFor(LIVE_TABLES);
export const REBUILD: AggregateStatements = statementsFor(REBUILD_TABLES);

/** What a counted placement left behind, for the anomaly rules. */
export interface PlacementFolded {
  at: Date;
  pane: TimeWindow;
  /** Orders placed in the pane, this one included. */
  placedInPane: number;
  /** The product's statistics without this order. */
  before: RunningStats;
}

export interface CancellationFolded {
  at: Date;
  pane: TimeWindow;
  /** Orders cancelled in the pane, this one included. */
  cancelledInPane: number;
}

/**
 * Folds an order_placed into the aggregates; undefined when this order was already counted. `occurredAt`
 * is the event's own time, used when the order carries no `createdAt`. Rows are always locked in the
 * same order — order, minute, product minute, product statistics, user — so concurrent partitions never
 * deadlock each other.
 */
export async function foldOrderPlaced(em: EntityManager, sql: AggregateStatements, order: OrderEventPayload, occurredAt: Date): Promise<PlacementFolded | undefined> {
  const at = eventTime(order.createdAt, occurredAt);
  await lockTablesOnce(em, sql);
  // The same order under another event id (an outside producer re-sending it) counts once.
  const [seen] = await em.query(sql.placeOrder, [order.id, createdAtOf(order), order.userId ?? null, order.product, order.amount, at]);
  if (!seen) return undefined;

  const pane = paneOf(at);
  const [minute] = await em.query(sql.addPlacedToMinute, [pane.start, order.amount]);
  await em.query(sql.addPlacedToProductMinute, [pane.start, order.product, order.amount]);

  const [row] = await em.query(sql.lockProductStats, [order.product]);
  const before: RunningStats = { samples: Number(row.samples), mean: Number(row.mean), m2: Number(row.m2) };
  const after = addSample(before, order.amount);
  await em.query(sql.updateProductStats, [order.product, after.samples, after.mean, after.m2]);

  if (order.userId != null) {
    // An order whose cancellation arrived first adds to the count but not to the spend.
    await em.query(sql.addPlacedToUser, [order.userId, seen.cancelled_at ? 0 : order.amount, at]);
  }
  return { at, pane, placedInPane: Number(minute.placed), before };
}

/** Folds an order_cancelled into the aggregates; undefined when this cancellation was already counted. */
export async function foldOrderCancelled(em: EntityManager, sql: AggregateStatements, order: OrderEventPayload, occurredAt: Date): Promise<CancellationFolded | undefined> {
  const at = eventTime(order.updatedAt, occurredAt);
  await lockTablesOnce(em, sql);
  const [seen] = await em.query(sql.cancelOrder, [order.id, createdAtOf(order), order.userId ?? null, order.product, order.amount, at]);
  if (!seen) return undefined;

  const pane = paneOf(at);
  const [minute] = await em.query(sql.addCancelledToMinute, [pane.start]);
  await em.query(sql.addCancelledToProductMinute, [pane.start, order.product]);
  if (order.userId != null) {
    // Spend counts orders that stand: take the amount back only if the placement was counted.
    await em.query(sql.addCancelledToUser, [order.userId, seen.placed_at ? order.amount : 0]);
  }
  return { at, pane, cancelledInPane: Number(minute.cancelled) };
}

/** A batch of events shares one transaction: the table locks are taken for its first event only. */
function lockTablesOnce(em: EntityManager, sql: AggregateStatements): Promise<void> {
  return oncePerTransaction(em, sql.lockTables, () => em.query(sql.lockTables));
}

/** The order's identity beside its id (see the analytics migration); -infinity when the event has none. */
function createdAtOf(order: OrderEventPayload): Date | string {
  const t = order.createdAt ? new Date(order.createdAt) : undefined;
  return t && !Number.isNaN(t.getTime()) ? t : '-infinity';
}
