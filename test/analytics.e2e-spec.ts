import { randomUUID } from 'node:crypto';
import { Topics } from '../src/events';
import { aQuietMinute, anOrderAt, plusMinutes, untilConsuming } from './support/analytics';
import { E2eApp, startE2eApp } from './support/e2e-app';
import { anOrder, anOutsideId, unique } from './support/factories';
import { consumerGroupId, ConsumerGroups } from '../src/messaging/kafka/consumer-groups';
import { endOffsets, rewindGroup } from './support/consumer-group';
import { OutsideProducer } from './support/kafka';
import { waitFor } from './support/wait-for';

describe('Stream analytics: windowed aggregates of order events', () => {
  let e2e: E2eApp;
  let outside: OutsideProducer;

  beforeAll(async () => {
    e2e = await startE2eApp();
    outside = await OutsideProducer.connect();
    await untilConsuming(e2e.db, outside);
  });
  afterAll(async () => {
    await outside?.close();
    await e2e?.close();
  });

  const summary = async (query: string) => (await e2e.http.get(`/analytics/summary?${query}`).expect(200)).body;
  const range = (from: Date, to: Date, window = '1m', top = 3) =>
    `window=${window}&top=${top}&from=${from.toISOString()}&to=${to.toISOString()}`;

  /** Sends outside orders stamped in a quiet minute and waits until the analytics consumer counted them all. */
  async function placeAt(minute: Date, orders: ReturnType<typeof anOrderAt>[]) {
    for (const order of orders) await outside.sendJson(Topics.OrderPlaced, order);
    await waitFor(`${orders.length} orders counted`, async () => {
      const [{ n }] = await e2e.db.query(`SELECT count(*)::int AS n FROM analytics_orders WHERE order_id = ANY($1::bigint[]) AND placed_at IS NOT NULL`, [
        orders.map((o) => o.id),
      ]);
      return n === orders.length;
    });
  }

  it('sums placed orders, cancellations, revenue, average and top products per one-minute window, by event time', async () => {
    const t = aQuietMinute();
    const [a, b] = [unique('armchair'), unique('bed')];
    const orders = [
      anOrderAt(plusMinutes(t, 0, 5), { product: a, amount: 10 }),
      anOrderAt(plusMinutes(t, 0, 20), { product: a, amount: 20 }),
      anOrderAt(plusMinutes(t, 0, 59), { product: b, amount: 40.5 }),
      anOrderAt(plusMinutes(t, 0, 30), { product: a, amount: 30 }),
      anOrderAt(plusMinutes(t, 2, 1), { product: b, amount: 99.99 }),
    ];
    await placeAt(t, orders);
    // Cancelled a minute later: counted in the window of the cancellation, not of the placement.
    await outside.sendJson(Topics.OrderCancelled, { ...orders[2], status: 'cancelled', version: 2, updatedAt: plusMinutes(t, 1, 10).toISOString() });

    const body = await waitFor('the cancellation in its window', async () => {
      const s = await summary(range(t, plusMinutes(t, 3)));
      return s.windows[1].cancelled === 1 ? s : undefined;
    });

    expect(body.window).toEqual({ label: '1m', kind: 'tumbling', sizeMinutes: 1, hopMinutes: 1 });
    expect(body.windows).toEqual([
      {
        start: t.toISOString(),
        end: plusMinutes(t, 1).toISOString(),
        placed: 4,
        cancelled: 0,
        revenue: 100.5,
        averageOrderValue: 25.13,
        topProducts: [
          { product: a, placed: 3, revenue: 60 },
          { product: b, placed: 1, revenue: 40.5 },
        ],
      },
      { start: plusMinutes(t, 1).toISOString(), end: plusMinutes(t, 2).toISOString(), placed: 0, cancelled: 1, revenue: 0, averageOrderValue: null, topProducts: [] },
      {
        start: plusMinutes(t, 2).toISOString(),
        end: plusMinutes(t, 3).toISOString(),
        placed: 1,
        cancelled: 0,
        revenue: 99.99,
        averageOrderValue: 99.99,
        topProducts: [{ product: b, placed: 1, revenue: 99.99 }],
      },
    ]);
    expect(body.totals).toEqual({ placed: 5, cancelled: 1, revenue: 200.49, averageOrderValue: 40.1 });
  });

  it('serves the configured hopping window (5 minutes every minute) as sums of the minutes it spans', async () => {
    const t = aQuietMinute();
    await placeAt(t, [anOrderAt(plusMinutes(t, 0, 1), { amount: 1 }), anOrderAt(plusMinutes(t, 3, 1), { amount: 2 }), anOrderAt(plusMinutes(t, 5, 1), { amount: 4 })]);

    const body = await summary(range(plusMinutes(t, -4), plusMinutes(t, 2), '5m', 0));

    expect(body.window).toEqual({ label: '5m', kind: 'hopping', sizeMinutes: 5, hopMinutes: 1 });
    expect(body.windows.map((w: { start: string; end: string; placed: number; revenue: number }) => [w.start, w.end, w.placed, w.revenue])).toEqual([
      [plusMinutes(t, -4).toISOString(), plusMinutes(t, 1).toISOString(), 1, 1],
      [plusMinutes(t, -3).toISOString(), plusMinutes(t, 2).toISOString(), 1, 1],
      [plusMinutes(t, -2).toISOString(), plusMinutes(t, 3).toISOString(), 1, 1],
      [plusMinutes(t, -1).toISOString(), plusMinutes(t, 4).toISOString(), 2, 3],
      [t.toISOString(), plusMinutes(t, 5).toISOString(), 2, 3],
      [plusMinutes(t, 1).toISOString(), plusMinutes(t, 6).toISOString(), 2, 6],
    ]);
    // Totals count each minute once although hopping windows overlap.
    expect(body.totals).toMatchObject({ placed: 3, revenue: 7 });
  });

  it('counts orders placed and cancelled over HTTP, per product and per user', async () => {
    // A user id no earlier run handed out: this database is new, but the topics keep old runs' orders.
    const user = { id: anOutsideId(), name: unique('buyer') };
    await outside.sendJson(Topics.UserCreated, user);
    await waitFor('the outside user to be stored', async () => (await e2e.http.get(`/users/${user.id}`)).status === 200);
    const product = unique('sofa');
    const placed = [];
    for (const amount of [100, 200, 300.25]) placed.push((await e2e.http.post('/orders').send(anOrder(user.id, { product, amount })).expect(201)).body);
    await e2e.http.delete(`/orders/${placed[0].id}`).expect(200);

    const stats = await waitFor('the user totals with the cancellation', async () => {
      const body = (await e2e.http.get(`/analytics/users/${user.id}`).expect(200)).body;
      return body.orders === 3 && body.cancelled === 1 ? body : undefined;
    });
    expect(stats).toEqual({
      userId: user.id,
      orders: 3,
      cancelled: 1,
      spend: 500.25,
      averageOrderValue: 250.13,
      firstOrderAt: placed[0].createdAt,
      lastOrderAt: placed[2].createdAt,
    });

    // The 5-minute window up to the last order holds all three, whatever minute boundary fell between them.
    const top = (await e2e.http.get(`/analytics/products/top?window=5m&limit=100&at=${placed[2].createdAt}`).expect(200)).body;
    expect(top.window).toMatchObject({ label: '5m' });
    expect(top.items).toContainEqual({ product, placed: 3, cancelled: 1, revenue: 600.25 });
  });

  it('counts an event once when it is delivered twice, and an order once when it is re-sent under a new identity', async () => {
    const t = aQuietMinute();
    const order = anOrderAt(plusMinutes(t, 0, 30), { amount: 12.5 });
    const headers = { ce_id: randomUUID(), ce_type: 'order_placed', ce_source: '/outside/shop', ce_time: order.createdAt };
    await outside.send(Topics.OrderPlaced, JSON.stringify(order), String(order.id), headers);
    await outside.send(Topics.OrderPlaced, JSON.stringify(order), String(order.id), headers);
    // Without headers its identity is its topic, partition and offset: a new event as far as the inbox knows.
    await outside.send(Topics.OrderPlaced, JSON.stringify(order), String(order.id));
    const marker = anOrderAt(plusMinutes(t, 0, 31), { amount: 1 });
    await outside.send(Topics.OrderPlaced, JSON.stringify(marker), String(order.id));

    // Same key, same partition: once the marker is counted, the three copies before it were handled.
    await waitFor('the marker counted', async () => (await e2e.db.query(`SELECT 1 FROM analytics_orders WHERE order_id = $1`, [marker.id])).length === 1);
    const body = await summary(range(t, plusMinutes(t, 1), '1m', 0));
    expect(body.windows[0]).toMatchObject({ placed: 2, revenue: 13.5 });
    const [{ n }] = await e2e.db.query(`SELECT count(*)::int AS n FROM inbox WHERE consumer = 'analytics' AND message_id = $1`, [headers.ce_id]);
    expect(n).toBe(1);
  });

  it('keeps the aggregates across a restart, and events delivered again after it change nothing', async () => {
    const mark = await endOffsets(Topics.OrderPlaced);
    const t = aQuietMinute();
    await placeAt(t, [anOrderAt(plusMinutes(t, 0, 1), { amount: 5 }), anOrderAt(plusMinutes(t, 0, 2), { amount: 7 })]);
    const before = await summary(range(t, plusMinutes(t, 2)));
    expect(before.totals).toMatchObject({ placed: 2, revenue: 12 });

    await e2e.close();
    // As after a crash before the offsets were committed: the analytics consumer reads these events again.
    await rewindGroup(consumerGroupId(process.env.KAFKA_GROUP_ID!, ConsumerGroups.Analytics), Topics.OrderPlaced, mark);
    e2e = await startE2eApp();
    await waitFor(
      'the restarted app to have consumed order_placed up to its end again',
      async () => {
        const { consumerLag } = (await e2e.http.get('/analytics/pipeline').expect(200)).body;
        const analytics = consumerLag.groups.find((lag: { group: string }) => lag.group === ConsumerGroups.Analytics);
        return analytics?.topics?.find((topic: { topic: string }) => topic.topic === Topics.OrderPlaced)?.lag === 0;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );

    expect(await summary(range(t, plusMinutes(t, 2)))).toEqual(before);
  });

  it('answers a user analytics has not seen with zeros, and a malformed id with 400', async () => {
    expect((await e2e.http.get('/analytics/users/987654321').expect(200)).body).toMatchObject({ userId: 987654321, orders: 0, spend: 0, firstOrderAt: null });
    const res = await e2e.http.get('/analytics/users/abc').expect(400);
    expect(res.body.errors).toEqual([{ field: 'id', messages: ['id must be a positive integer'] }]);
  });

  it('refuses bad summary parameters with 400 naming the field', async () => {
    const field = async (query: string) => (await e2e.http.get(`/analytics/summary?${query}`).expect(400)).body.errors.map((e: { field: string }) => e.field);

    expect(await field('window=7m')).toEqual(['window']);
    expect(await field('window=week')).toEqual(['window']);
    expect(await field('from=yesterday')).toEqual(['from']);
    expect(await field('from=2026-11-25T10:00:00Z&to=2026-11-25T09:00:00Z')).toEqual(['to']);
    expect(await field('from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z')).toEqual(['from']);
    expect(await field('top=50')).toEqual(['top']);
    expect(await field('color=blue')).toEqual(['color']);
    expect((await e2e.http.get('/analytics/products/top?limit=0').expect(400)).body.errors[0].field).toBe('limit');
  });
});
