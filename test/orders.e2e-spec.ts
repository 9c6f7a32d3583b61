import { Topics } from '../src/events';
import { E2eApp, startE2eApp } from './support/e2e-app';
import { anOrder, aUser } from './support/factories';
import { KafkaProbe } from './support/kafka';
import { waitFor } from './support/wait-for';

describe('Orders over HTTP, each change published to Kafka', () => {
  let e2e: E2eApp;
  let probe: KafkaProbe;
  let user: { id: number; name: string; email: string };

  beforeAll(async () => {
    probe = await KafkaProbe.start([Topics.OrderPlaced, Topics.OrderUpdated, Topics.OrderCancelled]);
    e2e = await startE2eApp();
    user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
  });
  afterAll(async () => {
    await e2e?.close();
    await probe?.stop();
  });

  const eventFor = (topic: string, id: number, version: number) =>
    probe.next(`${topic} for order ${id} v${version}`, (r) => r.topic === topic && r.key === String(id) && r.headers.ce_entityversion === String(version));

  it('places an order and publishes order_placed with the plain order JSON', async () => {
    const res = await e2e.http.post('/orders').send(anOrder(user.id, { amount: 100000, quantity: 2 })).expect(201);
    expect(res.body).toMatchObject({ userId: user.id, amount: 100000, quantity: 2, status: 'placed', version: 1 });

    const record = await eventFor(Topics.OrderPlaced, res.body.id, 1);
    const { customer, ...state } = res.body;
    expect(JSON.parse(record.value!)).toEqual(state);
    expect(record.headers).toMatchObject({ ce_type: 'order_placed', ce_source: '/nestream/orders', ce_subject: String(res.body.id) });
  });

  it('keeps amounts exact to the cent', async () => {
    const res = await e2e.http.post('/orders').send(anOrder(user.id, { amount: 1234567.89 })).expect(201);
    expect(res.body.amount).toBe(1234567.89);
    const [row] = await e2e.db.query('SELECT amount::text AS amount FROM orders WHERE id = $1', [res.body.id]);
    expect(row.amount).toBe('1234567.89');
    const record = await eventFor(Topics.OrderPlaced, res.body.id, 1);
    expect(record.value).toContain('"amount":1234567.89');
  });

  it('refuses an amount with more than two decimals instead of rounding it', async () => {
    const res = await e2e.http.post('/orders').send(anOrder(user.id, { amount: 19.999 })).expect(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'amount' })]);
  });

  it('stores the order, its event log entry and its outbox record together, with the answered state', async () => {
    const res = await e2e.http.post('/orders').send(anOrder(user.id)).expect(201);
    const [row] = await e2e.db.query(`SELECT created_at, updated_at, version FROM orders WHERE id = $1`, [res.body.id]);
    expect({ createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString(), version: row.version }).toEqual({
      createdAt: res.body.createdAt,
      updatedAt: res.body.updatedAt,
      version: 1,
    });
    const [logged] = await e2e.db.query(`SELECT payload FROM event_log WHERE entity_type = 'order' AND entity_id = $1 AND version = 1`, [String(res.body.id)]);
    const { customer, ...state } = res.body;
    expect(logged.payload).toEqual(state);
  });

  it('skips order ids an outside producer took from the block this instance reserved', async () => {
    const first = (await e2e.http.post('/orders').send(anOrder(user.id)).expect(201)).body;
    // As the ingest consumer would store an outside order_placed: the next ids of the reserved block.
    for (const id of [first.id + 1, first.id + 2]) {
      await e2e.db.query(`INSERT INTO orders (id, user_id, product, amount, quantity) VALUES ($1, $2, 'outside', 1, 1)`, [id, user.id]);
    }
    const next = (await e2e.http.post('/orders').send(anOrder(user.id, { product: 'mine' })).expect(201)).body;
    expect(next.id).toBeGreaterThan(first.id + 2);
    const [row] = await e2e.db.query(`SELECT product FROM orders WHERE id = $1`, [next.id]);
    expect(row.product).toBe('mine');
    const outside = await e2e.db.query(`SELECT product FROM orders WHERE id = ANY($1::bigint[])`, [[first.id + 1, first.id + 2]]);
    expect(outside.map((r: { product: string }) => r.product)).toEqual(['outside', 'outside']);
  });

  it('answers 422 when userId names no user', async () => {
    const res = await e2e.http.post('/orders').send(anOrder(987654321)).expect(422);
    expect(res.body.errors).toEqual([{ field: 'userId', messages: ['user 987654321 does not exist'] }]);
  });

  it('enriches a placed order with its customer so a read needs no join', async () => {
    const order = (await e2e.http.post('/orders').send(anOrder(user.id)).expect(201)).body;
    expect(order.customer).toBeNull();
    const enriched = await waitFor('customer on the order', async () => {
      const body = (await e2e.http.get(`/orders/${order.id}`).expect(200)).body;
      return body.customer ? body : undefined;
    });
    expect(enriched.customer).toEqual({ id: user.id, name: user.name, email: user.email });
    expect(enriched).toMatchObject({ version: order.version, updatedAt: order.updatedAt });
  });

  it('moves placed → paid → shipped with order_updated events, and refuses an illegal move with 409', async () => {
    const order = (await e2e.http.post('/orders').send(anOrder(user.id)).expect(201)).body;
    await e2e.http.patch(`/orders/${order.id}`).send({ status: 'shipped' }).expect(409);
    const paid = (await e2e.http.patch(`/orders/${order.id}`).send({ status: 'paid' }).expect(200)).body;
    expect(paid).toMatchObject({ status: 'paid', version: 2 });
    const shipped = (await e2e.http.patch(`/orders/${order.id}`).send({ status: 'shipped' }).expect(200)).body;
    expect(shipped).toMatchObject({ status: 'shipped', version: 3 });

    expect(JSON.parse((await eventFor(Topics.OrderUpdated, order.id, 2)).value!).status).toBe('paid');
    expect(JSON.parse((await eventFor(Topics.OrderUpdated, order.id, 3)).value!).status).toBe('shipped');

    const res = await e2e.http.delete(`/orders/${order.id}`).expect(409);
    expect(res.body.message).toMatch(/shipped/);
  });

  it('cancels with DELETE, publishes order_cancelled once, and a second DELETE changes nothing', async () => {
    const order = (await e2e.http.post('/orders').send(anOrder(user.id)).expect(201)).body;
    const cancelled = (await e2e.http.delete(`/orders/${order.id}`).expect(200)).body;
    expect(cancelled).toMatchObject({ status: 'cancelled', version: 2 });
    expect((await e2e.http.delete(`/orders/${order.id}`).expect(200)).body.version).toBe(2);
    await e2e.http.patch(`/orders/${order.id}`).send({ status: 'paid' }).expect(409);

    await eventFor(Topics.OrderCancelled, order.id, 2);
    const [{ count }] = await e2e.db.query(
      `SELECT count(*)::int AS count FROM event_log WHERE entity_type = 'order' AND entity_id = $1 AND type = 'order_cancelled'`,
      [String(order.id)],
    );
    expect(count).toBe(1);
  });

  it('lists orders filtered by user and status, and a user\'s orders', async () => {
    const other = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
    const a = (await e2e.http.post('/orders').send(anOrder(other.id)).expect(201)).body;
    const b = (await e2e.http.post('/orders').send(anOrder(other.id)).expect(201)).body;
    await e2e.http.delete(`/orders/${b.id}`).expect(200);

    const placed = (await e2e.http.get(`/orders?userId=${other.id}&status=placed`).expect(200)).body;
    expect(placed.items.map((o: { id: number }) => o.id)).toEqual([a.id]);
    const mine = (await e2e.http.get(`/users/${other.id}/orders`).expect(200)).body;
    expect(mine.items.map((o: { id: number }) => o.id)).toEqual([a.id, b.id]);
    await e2e.http.get('/users/987654321/orders').expect(404);
    await e2e.http.get('/orders?status=lost').expect(400);
  });
});
