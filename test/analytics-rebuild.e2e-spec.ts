import type { RebuildReport } from '../src/projections/projection-rebuilder.service';
import { E2eApp, startE2eApp } from './support/e2e-app';
import { unique } from './support/factories';
import { waitFor } from './support/wait-for';

/**
 * Other test runs share the topics, so the live analytics tables also hold events this database's log
 * never saw: everything here is asserted on this test's own products, users and orders only.
 */
describe('Rebuilding the analytics projection from the event log', () => {
  let e2e: E2eApp;
  const admin = { Authorization: `Bearer ${process.env.ADMIN_TOKEN}` };

  beforeAll(async () => {
    e2e = await startE2eApp();
  });
  afterAll(() => e2e?.close());

  // Short names, so this test's rows come first among the check's samples (ordered by key length).
  const products = [unique('ar'), unique('ar'), unique('ar')];
  const outlierProduct = unique('ao');
  const allProducts = [...products, outlierProduct];
  const userIds: number[] = [];
  const placed: { id: number; cancelled: boolean }[] = [];

  /** This test's rows of every analytics table, in a stable order. */
  async function mine() {
    const orderIds = placed.map((o) => o.id);
    return {
      orders: await e2e.db.query(`SELECT * FROM analytics_orders WHERE order_id = ANY($1::bigint[]) ORDER BY order_id`, [orderIds]),
      productMinutes: await e2e.db.query(`SELECT * FROM analytics_product_minute_windows WHERE product = ANY($1::text[]) ORDER BY window_start, product`, [allProducts]),
      productStats: (await e2e.db.query(`SELECT * FROM analytics_product_stats WHERE product = ANY($1::text[]) ORDER BY product`, [allProducts])).map(
        (r: { product: string; samples: string; mean: number; m2: number }) => ({ product: r.product, samples: r.samples, mean: round(r.mean), m2: round(r.m2) }),
      ),
      users: await e2e.db.query(`SELECT * FROM analytics_users WHERE user_id = ANY($1::bigint[]) ORDER BY user_id`, [userIds]),
    };
  }
  // Welford's sums depend on the order a product's orders were folded in, up to rounding.
  const round = (x: number) => Number(Number(x).toPrecision(10));

  const tableOf = (report: RebuildReport, table: string) => report.tables.find((t) => t.table === table)!;

  it('rebuilds the aggregates of a few hundred placed and cancelled orders equal to the live ones, and reports a corrupted row', async () => {
    for (let i = 0; i < 5; i++) userIds.push((await e2e.http.post('/users').send({ name: unique('buyer') }).expect(201)).body.id);
    // Similar amounts and then one far above them: an amount_outlier the consumer detects and publishes once.
    const orderRequests = [
      ...Array.from({ length: 300 }, (_, i) => ({ userId: userIds[i % userIds.length], product: products[i % products.length], amount: (500 + ((i * 37) % 1000)) / 100, quantity: 1 + (i % 3) })),
      ...Array.from({ length: 12 }, (_, i) => ({ userId: userIds[i % userIds.length], product: outlierProduct, amount: 9 + (i % 3) })),
    ];
    let next = 0;
    const worker = async () => {
      while (next < orderRequests.length) {
        const body = orderRequests[next++];
        const order = (await e2e.http.post('/orders').send(body).expect(201)).body;
        const cancel = placed.length % 3 === 0;
        if (cancel) await e2e.http.delete(`/orders/${order.id}`).expect(200);
        placed.push({ id: order.id, cancelled: cancel });
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
    // Orders of different ids are consumed in parallel: the outlier must come after its baseline is counted.
    await waitFor(
      'the outlier product baseline counted',
      async () => (await e2e.db.query(`SELECT 1 FROM analytics_product_stats WHERE product = $1 AND samples >= 12`, [outlierProduct])).length === 1,
      { timeoutMs: 120_000, intervalMs: 250 },
    );
    const outlier = (await e2e.http.post('/orders').send({ userId: userIds[0], product: outlierProduct, amount: 500 }).expect(201)).body;
    placed.push({ id: outlier.id, cancelled: false });
    const cancelled = placed.filter((o) => o.cancelled).length;
    expect(cancelled).toBeGreaterThan(90);

    await waitFor(
      'analytics to count every placement and cancellation of this test',
      async () => {
        const [row] = await e2e.db.query(
          `SELECT count(placed_at)::int AS placed, count(cancelled_at)::int AS cancelled FROM analytics_orders WHERE order_id = ANY($1::bigint[])`,
          [placed.map((o) => o.id)],
        );
        return row.placed === placed.length && row.cancelled === cancelled;
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    );
    const anomalyOf = async () =>
      e2e.db.query(`SELECT id, dedupe_key, published_at FROM analytics_anomalies WHERE rule = 'amount_outlier' AND product = $1`, [outlierProduct]);
    const [anomaly] = await waitFor('the outlier published', async () => {
      const rows = await anomalyOf();
      return rows.length === 1 && rows[0].published_at ? rows : undefined;
    });
    const publishedEvents = async () =>
      (await e2e.db.query(`SELECT count(*)::int AS n FROM event_log WHERE type = 'anomaly_detected' AND entity_id = $1`, [String(anomaly.id)]))[0].n;
    expect(await publishedEvents()).toBe(1);
    const live = await mine();
    expect(live.orders).toHaveLength(placed.length);
    expect(live.users.map((u: { orders: number }) => u.orders).reduce((a: number, b: number) => a + b, 0)).toBe(placed.length);

    // A live row the log does not describe: the check names it and leaves it; the rebuild puts it right.
    // For UPDATE, TypeORM's query() answers [rows, affected count].
    const [[corrupt]] = await e2e.db.query(
      `UPDATE analytics_product_stats SET samples = samples + 1000 WHERE product = $1 RETURNING samples::int AS samples`,
      [products[0]],
    );
    await e2e.db.query(`UPDATE analytics_users SET spend = spend + 1 WHERE user_id = $1`, [userIds[1]]);
    const check: RebuildReport = (await e2e.http.post('/admin/projections/analytics/check').set(admin).expect(200)).body;

    expect(check).toMatchObject({ projection: 'analytics', swapped: false, identical: false });
    expect(check.tables.map((t) => t.table).sort()).toEqual([
      'analytics_minute_windows',
      'analytics_orders',
      'analytics_product_minute_windows',
      'analytics_product_stats',
      'analytics_users',
    ]);
    expect(tableOf(check, 'analytics_product_stats').samples).toContainEqual(
      expect.objectContaining({ key: products[0], kind: 'changed', live: expect.objectContaining({ samples: corrupt.samples }) }),
    );
    expect(tableOf(check, 'analytics_users').changed).toBeGreaterThanOrEqual(1);
    expect((await e2e.db.query(`SELECT samples::int AS samples FROM analytics_product_stats WHERE product = $1`, [products[0]]))[0].samples).toBe(corrupt.samples);

    const rebuilt: RebuildReport = (await e2e.http.post('/admin/projections/analytics/rebuild').set(admin).expect(200)).body;

    expect(rebuilt).toMatchObject({ projection: 'analytics', swapped: true });
    expect(tableOf(rebuilt, 'analytics_product_stats').samples).toContainEqual(expect.objectContaining({ key: products[0], kind: 'changed' }));
    expect(await mine()).toEqual(live);
    // Anomalies are not rebuilt: the one found is kept as it was, and nothing is published again.
    expect(await anomalyOf()).toEqual([anomaly]);
    expect(await publishedEvents()).toBe(1);
  }, 200_000);

  it('keeps counting into the swapped-in tables', async () => {
    const [before] = await e2e.db.query(`SELECT samples::int AS samples FROM analytics_product_stats WHERE product = $1`, [products[1]]);
    const order = (await e2e.http.post('/orders').send({ userId: userIds[0], product: products[1], amount: 7 }).expect(201)).body;

    await waitFor('the new order counted', async () => (await e2e.db.query(`SELECT 1 FROM analytics_orders WHERE order_id = $1 AND placed_at IS NOT NULL`, [order.id])).length > 0, {
      timeoutMs: 60_000,
      intervalMs: 200,
    });

    const [after] = await e2e.db.query(`SELECT samples::int AS samples FROM analytics_product_stats WHERE product = $1`, [products[1]]);
    expect(after.samples).toBe(before.samples + 1);
  }, 90_000);
});
