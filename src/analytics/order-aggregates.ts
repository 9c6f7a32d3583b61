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
  placeOrders: string;
  cancelOrder: string;
  addPlacedToMinutes: string;
  addPlacedToProductMinutes: string;
  addCancelledToMinute: string;
  addCancelledToProductMinute: string;
  lockProductStats: string;
  updateProductStats: string;
  addPlacedToUsers: string;
  addCancelledToUser: string;
}

function statementsFor(tables: AggregateTables): AggregateStatements {
  const [orders, minutes, productMinutes, productStats, users] = [tables.orders, tables.minutes, tables.productMinutes, tables.productStats, tables.users].map(ident);
  return {
    tables,
    // Table locks in name order, the order a rebuild locks the live tables in before swapping them, so
    // a consumer and a rebuild queue behind each other instead of deadlocking (these modes share).
    lockTables: `LOCK TABLE ${[minutes, orders, productMinutes, productStats, users].join(', ')} IN ROW EXCLUSIVE MODE`,
    // A batch of placements (distinct orders); answers the input positions (1-based) that were counted.
    placeOrders: `WITH input AS (
         SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::bigint[], $4::text[], $5::numeric[], $6::timestamptz[])
           WITH ORDINALITY AS t(order_id, created_at, user_id, product, amount, placed_at, n)
       ), counted AS (
         INSERT INTO ${orders} AS o (order_id, created_at, user_id, product, amount, placed_at)
         SELECT order_id, created_at, user_id, product, amount, placed_at FROM input ORDER BY order_id, created_at
         ON CONFLICT (order_id, created_at) DO UPDATE SET placed_at = EXCLUDED.placed_at WHERE o.placed_at IS NULL
         RETURNING order_id, created_at, cancelled_at
       )
       SELECT i.n, c.cancelled_at FROM input i JOIN counted c ON c.order_id = i.order_id AND c.created_at = i.created_at`,
    cancelOrder: `INSERT INTO ${orders} (order_id, created_at, user_id, product, amount, cancelled_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (order_id, created_at) DO UPDATE SET cancelled_at = EXCLUDED.cancelled_at WHERE ${orders}.cancelled_at IS NULL
       RETURNING placed_at`,
    // One row per counted order, summed per minute here (numeric, exactly); answers each minute's new total.
    addPlacedToMinutes: `INSERT INTO ${minutes} AS w (window_start, placed, revenue)
       SELECT window_start, count(*), sum(amount) FROM unnest($1::timestamptz[], $2::numeric[]) AS t(window_start, amount)
        GROUP BY window_start ORDER BY window_start
       ON CONFLICT (window_start) DO UPDATE SET placed = w.placed + EXCLUDED.placed, revenue = w.revenue + EXCLUDED.revenue
       RETURNING window_start, placed`,
    addPlacedToProductMinutes: `INSERT INTO ${productMinutes} AS w (window_start, product, placed, revenue)
       SELECT window_start, product, count(*), sum(amount) FROM unnest($1::timestamptz[], $2::text[], $3::numeric[]) AS t(window_start, product, amount)
        GROUP BY window_start, product ORDER BY window_start, product
       ON CONFLICT (window_start, product) DO UPDATE SET placed = w.placed + EXCLUDED.placed, revenue = w.revenue + EXCLUDED.revenue`,
    addCancelledToMinute: `INSERT INTO ${minutes} AS w (window_start, cancelled) VALUES ($1, 1)
       ON CONFLICT (window_start) DO UPDATE SET cancelled = w.cancelled + 1
       RETURNING cancelled`,
    addCancelledToProductMinute: `INSERT INTO ${productMinutes} AS w (window_start, product, cancelled) VALUES ($1, $2, 1)
       ON CONFLICT (window_start, product) DO UPDATE SET cancelled = w.cancelled + 1`,
    // Creates the rows if missing, else locks them (a no-op update), and answers their values before the batch.
    lockProductStats: `INSERT INTO ${productStats} AS p (product) SELECT DISTINCT unnest($1::text[]) ORDER BY 1
       ON CONFLICT (product) DO UPDATE SET product = p.product
       RETURNING product, samples, mean, m2`,
    updateProductStats: `UPDATE ${productStats} AS p SET samples = t.samples, mean = t.mean, m2 = t.m2
       FROM unnest($1::text[], $2::bigint[], $3::float8[], $4::float8[]) AS t(product, samples, mean, m2)
      WHERE p.product = t.product`,
    addPlacedToUsers: `INSERT INTO ${users} AS u (user_id, orders, spend, first_order_at, last_order_at)
         SELECT user_id, count(*), sum(spend), min(at), max(at) FROM unnest($1::bigint[], $2::numeric[], $3::timestamptz[]) AS t(user_id, spend, at)
          GROUP BY user_id ORDER BY user_id
         ON CONFLICT (user_id) DO UPDATE SET orders = u.orders + EXCLUDED.orders, spend = u.spend + EXCLUDED.spend,
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

export interface OrderEventToFold {
  type: 'order_placed' | 'order_cancelled';
  payload: OrderEventPayload;
  /** The event's own time, used when the order carries no `createdAt` (or `updatedAt`). */
  occurredAt: Date;
}

/**
 * Folds order events into the aggregates, in order; per event, what it left behind, or undefined when
 * it was already counted. Consecutive placements are folded together, a handful of statements for the
 * lot; each result is what folding the events one by one would have given.
 */
export async function foldOrderEvents(em: EntityManager, sql: AggregateStatements, events: readonly OrderEventToFold[]): Promise<(PlacementFolded | CancellationFolded | undefined)[]> {
  const results: (PlacementFolded | CancellationFolded | undefined)[] = [];
  for (let i = 0; i < events.length; ) {
    if (events[i].type === 'order_cancelled') {
      results.push(await foldOrderCancelled(em, sql, events[i].payload, events[i].occurredAt));
      i += 1;
      continue;
    }
    let end = i;
    while (end < events.length && events[end].type === 'order_placed') end += 1;
    results.push(...(await foldOrdersPlaced(em, sql, events.slice(i, end))));
    i = end;
  }
  return results;
}

/**
 * Folds placements into the aggregates. Rows are locked class by class — orders, minutes, product
 * minutes, product statistics, users — each in key order, so concurrent batches never deadlock.
 */
async function foldOrdersPlaced(em: EntityManager, sql: AggregateStatements, events: readonly OrderEventToFold[]): Promise<(PlacementFolded | undefined)[]> {
  await lockTablesOnce(em, sql);
  // The same order under another event id (an outside producer re-sending it) counts once: only the
  // first copy in the batch is offered, and the insert answers which of those were not counted before.
  const firstCopies = new Map<string, number>();
  const placed = events.map(({ payload, occurredAt }, i) => {
    const createdAt = createdAtOf(payload);
    const key = `${payload.id}|${createdAt instanceof Date ? createdAt.toISOString() : createdAt}`;
    if (!firstCopies.has(key)) firstCopies.set(key, i);
    return { order: payload, createdAt, at: eventTime(payload.createdAt, occurredAt) };
  });
  const offered = [...firstCopies.values()];
  const counted: { n: string; cancelled_at: Date | null }[] = await em.query(sql.placeOrders, [
    offered.map((i) => placed[i].order.id),
    offered.map((i) => placed[i].createdAt),
    offered.map((i) => placed[i].order.userId ?? null),
    offered.map((i) => placed[i].order.product),
    offered.map((i) => placed[i].order.amount),
    offered.map((i) => placed[i].at),
  ]);
  const cancelledFirst = new Map(counted.map((r) => [offered[Number(r.n) - 1], r.cancelled_at !== null]));
  const items = placed.flatMap((p, i) => (cancelledFirst.has(i) ? [{ ...p, i, pane: paneOf(p.at), cancelledFirst: cancelledFirst.get(i)! }] : []));
  const results: (PlacementFolded | undefined)[] = events.map(() => undefined);
  if (items.length === 0) return results;

  const totals: { window_start: Date; placed: number }[] = await em.query(sql.addPlacedToMinutes, [items.map((x) => x.pane.start), items.map((x) => x.order.amount)]);
  await em.query(sql.addPlacedToProductMinutes, [items.map((x) => x.pane.start), items.map((x) => x.order.product), items.map((x) => x.order.amount)]);

  const locked: { product: string; samples: string; mean: number; m2: number }[] = await em.query(sql.lockProductStats, [items.map((x) => x.order.product)]);
  const stats = new Map(locked.map((r) => [r.product, { samples: Number(r.samples), mean: Number(r.mean), m2: Number(r.m2) } as RunningStats]));
  const before = items.map((x) => {
    const current = stats.get(x.order.product)!;
    stats.set(x.order.product, addSample(current, x.order.amount));
    return current;
  });
  const products = [...stats.keys()];
  const after = products.map((p) => stats.get(p)!);
  await em.query(sql.updateProductStats, [products, after.map((s) => s.samples), after.map((s) => s.mean), after.map((s) => s.m2)]);

  const withUser = items.filter((x) => x.order.userId != null);
  if (withUser.length > 0) {
    // An order whose cancellation arrived first adds to the count but not to the spend.
    await em.query(sql.addPlacedToUsers, [withUser.map((x) => x.order.userId), withUser.map((x) => (x.cancelledFirst ? 0 : x.order.amount)), withUser.map((x) => x.at)]);
  }

  // Each placement's count of its minute is the minute's new total less the batch's later placements in it.
  const inPane = new Map(totals.map((r) => [new Date(r.window_start).getTime(), Number(r.placed)]));
  for (let k = items.length - 1; k >= 0; k -= 1) {
    const x = items[k];
    const start = x.pane.start.getTime();
    results[x.i] = { at: x.at, pane: x.pane, placedInPane: inPane.get(start)!, before: before[k] };
    inPane.set(start, inPane.get(start)! - 1);
  }
  return results;
}

/** Folds an order_cancelled into the aggregates; undefined when this cancellation was already counted. */
async function foldOrderCancelled(em: EntityManager, sql: AggregateStatements, order: OrderEventPayload, occurredAt: Date): Promise<CancellationFolded | undefined> {
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
