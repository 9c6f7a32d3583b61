import { Topics, validateEventPayload } from '../src/events';
import { aQuietMinute, anOrderAt, plusMinutes, untilConsuming } from './support/analytics';
import { E2eApp, overrideEnv, startE2eApp } from './support/e2e-app';
import { anOrder, anOutsideId, unique } from './support/factories';
import { KafkaProbe, OutsideProducer } from './support/kafka';
import { waitFor } from './support/wait-for';

// Thresholds small enough for a test to cross; every other setting keeps its default.
const restoreEnv = overrideEnv({
  ANALYTICS_AMOUNT_STDDEV_K: '3',
  ANALYTICS_AMOUNT_MIN_SAMPLES: '5',
  ANALYTICS_ORDERS_PER_WINDOW_CEILING: '8',
  ANALYTICS_ORDERS_SPIKE_FACTOR: '3',
  ANALYTICS_ORDERS_SPIKE_BASELINE_WINDOWS: '10',
  ANALYTICS_ORDERS_SPIKE_MIN_ORDERS: '3',
  ANALYTICS_CANCELLATION_BURST: '3',
});

interface Anomaly {
  id: number;
  rule: string;
  orderId: number | null;
  product: string | null;
  windowStart: string | null;
  observed: number;
  threshold: number;
  message: string;
  publishedAt: string | null;
}

describe('Anomaly rules: detected, listed and published as anomaly_detected', () => {
  let e2e: E2eApp;
  let outside: OutsideProducer;
  let probe: KafkaProbe;

  beforeAll(async () => {
    probe = await KafkaProbe.start([Topics.AnomalyDetected]);
    e2e = await startE2eApp();
    outside = await OutsideProducer.connect();
    await untilConsuming(e2e.db, outside);
  });
  afterAll(async () => {
    await outside?.close();
    await e2e?.close();
    await probe?.stop();
    restoreEnv();
  });

  const anomalies = async (query = ''): Promise<Anomaly[]> => (await e2e.http.get(`/analytics/anomalies?limit=100&${query}`).expect(200)).body.items;
  const anomalyFor = (what: string, match: (a: Anomaly) => boolean) =>
    waitFor(what, async () => (await anomalies()).find(match));
  const windowAnomalies = async (rule: string, minute: Date) =>
    (await anomalies(`rule=${rule}`)).filter((a) => a.windowStart === minute.toISOString());

  /** Waits until the analytics consumer counted these orders (an order is its id and creation time). */
  async function counted(orders: { id: number; createdAt: string }[]) {
    await waitFor(`${orders.length} orders counted`, async () => {
      const [{ n }] = await e2e.db.query(
        `SELECT count(*)::int AS n FROM analytics_orders a
           JOIN unnest($1::bigint[], $2::timestamptz[]) AS o(id, created_at) ON a.order_id = o.id AND a.created_at = o.created_at`,
        [orders.map((o) => o.id), orders.map((o) => o.createdAt)],
      );
      return n === orders.length;
    });
  }

  async function placeAt(orders: ReturnType<typeof anOrderAt>[]) {
    for (const order of orders) await outside.sendJson(Topics.OrderPlaced, order);
    await counted(orders);
  }

  it('flags an order amount far above its product running mean, publishes it once, and leaves usual amounts alone', async () => {
    const user = { id: anOutsideId(), name: unique('buyer') };
    await outside.sendJson(Topics.UserCreated, user);
    await waitFor('the user to be stored', async () => (await e2e.http.get(`/users/${user.id}`)).status === 200);
    const product = unique('lamp');
    const usual = [];
    for (const amount of [100, 105, 95, 102, 98]) usual.push((await e2e.http.post('/orders').send(anOrder(user.id, { product, amount })).expect(201)).body);
    // Orders land on several partitions: wait until all five are in the running statistics.
    await counted(usual);
    const normal = (await e2e.http.post('/orders').send(anOrder(user.id, { product, amount: 104 })).expect(201)).body;
    await counted([normal]);
    const outlier = (await e2e.http.post('/orders').send(anOrder(user.id, { product, amount: 5000 })).expect(201)).body;

    const found = await anomalyFor('the amount outlier', (a) => a.rule === 'amount_outlier' && a.orderId === outlier.id);
    expect(found).toMatchObject({ product, observed: 5000, windowStart: null });
    expect(found.threshold).toBeGreaterThan(104);
    expect(found.message).toContain(`order ${outlier.id} of ${product}`);

    const record = await probe.next('anomaly_detected on Kafka', (r) => r.key === String(found.id));
    const payload = JSON.parse(record.value!);
    expect(payload).toMatchObject({ id: found.id, rule: 'amount_outlier', orderId: outlier.id, product, userId: user.id, observed: 5000 });
    expect(validateEventPayload('anomaly_detected', payload)).toEqual({ valid: true });
    expect(record.headers).toMatchObject({ ce_type: 'anomaly_detected', ce_subject: String(found.id) });
    expect(payload.occurredAt).toBe(outlier.createdAt);

    expect((await anomalies('rule=amount_outlier')).filter((a) => a.product === product).map((a) => a.orderId)).toEqual([outlier.id]);
    await waitFor('the anomaly marked published', async () => (await anomalies()).find((a) => a.id === found.id)?.publishedAt);
    const [{ n }] = await e2e.db.query(`SELECT count(*)::int AS n FROM event_log WHERE type = 'anomaly_detected' AND entity_id = $1`, [String(found.id)]);
    expect(n).toBe(1);
  });

  it('flags a minute with more orders than the ceiling, once however many more arrive', async () => {
    const t = aQuietMinute();
    await placeAt(Array.from({ length: 9 }, (_, i) => anOrderAt(plusMinutes(t, 0, i))));
    await placeAt([anOrderAt(plusMinutes(t, 0, 30)), anOrderAt(plusMinutes(t, 0, 31))]);

    await anomalyFor('the ceiling anomaly', (a) => a.rule === 'orders_per_window_ceiling' && a.windowStart === t.toISOString());
    const found = await windowAnomalies('orders_per_window_ceiling', t);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ observed: 9, threshold: 8, orderId: null });
    await probe.next('its anomaly_detected event', (r) => r.key === String(found[0].id));
  });

  it('judges a spike against the mean of the minutes before it', async () => {
    const t = aQuietMinute();
    // Ten minutes of two orders each: a mean of 2, so a spike needs more than 3 × 2 = 6 orders.
    await placeAt(Array.from({ length: 20 }, (_, i) => anOrderAt(plusMinutes(t, -10 + Math.floor(i / 2), i % 2))));
    await placeAt(Array.from({ length: 6 }, (_, i) => anOrderAt(plusMinutes(t, 0, i))));
    expect(await windowAnomalies('orders_per_window_spike', t)).toEqual([]);

    await placeAt([anOrderAt(plusMinutes(t, 0, 50))]);
    const found = await anomalyFor('the spike', (a) => a.rule === 'orders_per_window_spike' && a.windowStart === t.toISOString());
    expect(found).toMatchObject({ observed: 7, threshold: 6 });
    // The start of the baseline was no spike: two orders are not more than the minimum of 3.
    expect(await windowAnomalies('orders_per_window_spike', plusMinutes(t, -10))).toEqual([]);
  });

  it('flags a burst of cancellations in one minute', async () => {
    const t = aQuietMinute();
    const orders = Array.from({ length: 3 }, (_, i) => anOrderAt(plusMinutes(t, -5, i)));
    await placeAt(orders);
    for (const [i, o] of orders.entries()) {
      await outside.sendJson(Topics.OrderCancelled, { ...o, status: 'cancelled', version: 2, updatedAt: plusMinutes(t, 0, i).toISOString() });
    }

    const found = await anomalyFor('the cancellation burst', (a) => a.rule === 'cancellation_burst' && a.windowStart === t.toISOString());
    expect(found).toMatchObject({ observed: 3, threshold: 3 });
    expect(await windowAnomalies('cancellation_burst', plusMinutes(t, -5))).toEqual([]);
  });

  it('lists anomalies newest first, a page at a time, and refuses an unknown rule', async () => {
    const first = (await e2e.http.get('/analytics/anomalies?limit=2').expect(200)).body;
    expect(first.items).toHaveLength(2);
    expect(first.items[0].id).toBeGreaterThan(first.items[1].id);
    const second = (await e2e.http.get(`/analytics/anomalies?limit=2&before=${first.nextCursor}`).expect(200)).body;
    expect(second.items[0].id).toBeLessThan(first.items[1].id);

    const res = await e2e.http.get('/analytics/anomalies?rule=gremlins').expect(400);
    expect(res.body.errors[0].field).toBe('rule');
  });
});
