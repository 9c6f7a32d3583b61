import { E2eApp, startE2eApp } from './support/e2e-app';
import { anOrder, aUser, unique } from './support/factories';
import { untilConsuming } from './support/analytics';
import { OutsideProducer } from './support/kafka';
import { baseUrl, SseClient } from './support/sse';

describe('GET /events/stream: Server-Sent Events of consumed domain events', () => {
  let e2e: E2eApp;
  let url: string;
  let outside: OutsideProducer;
  const clients: SseClient[] = [];

  beforeAll(async () => {
    e2e = await startE2eApp();
    url = baseUrl(e2e.app);
    outside = await OutsideProducer.connect();
    await untilConsuming(e2e.db, outside);
  });
  afterEach(() => clients.splice(0).forEach((c) => c.close()));
  afterAll(async () => {
    await outside?.close();
    await e2e?.close();
  });

  const connect = async (path: string, headers?: Record<string, string>) => {
    const client = await SseClient.connect(`${url}${path}`, headers);
    clients.push(client);
    return client;
  };
  const placeOrder = async (userId: number, product = unique('chair')) => (await e2e.http.post('/orders').send(anOrder(userId, { product })).expect(201)).body;
  const isOrder = (type: string, product: string) => (d: { type: string; payload: { product?: string } }) => d.type === type && d.payload.product === product;

  it('streams each event as it is consumed, with its type, payload and a resumable id', async () => {
    const all = await connect('/events/stream');
    expect(all.status).toBe(200);
    expect(all.contentType).toMatch(/^text\/event-stream/);

    const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
    const order = await placeOrder(user.id);

    const placed = await all.next('order_placed on the stream', isOrder('order_placed', order.product));
    expect(placed.data).toMatchObject({ type: 'order_placed', topic: 'order_placed', key: String(order.id), payload: { id: order.id, amount: order.amount } });
    expect(placed.id).toBe(String(placed.data.id));
    await all.next('user_created on the stream', (d) => d.type === 'user_created' && d.payload.id === user.id);
  });

  it('sends only the types asked for', async () => {
    const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
    const cancels = await connect('/events/stream?type=order_cancelled');
    const everything = await connect('/events/stream');
    const order = await placeOrder(user.id);
    await e2e.http.delete(`/orders/${order.id}`).expect(200);

    await cancels.next('order_cancelled', isOrder('order_cancelled', order.product));
    // Two topics are consumed independently, so the placement may reach the feed after the cancellation.
    await everything.next('order_cancelled on the unfiltered stream', isOrder('order_cancelled', order.product));
    await everything.next('order_placed on the unfiltered stream', isOrder('order_placed', order.product));
    expect(cancels.messages.map((m) => m.data.type)).toEqual(cancels.messages.map(() => 'order_cancelled'));
  });

  it('resumes after Last-Event-ID with everything missed while disconnected, in order', async () => {
    const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
    const first = await connect('/events/stream?type=order_placed');
    const seen = await placeOrder(user.id);
    const lastSeen = await first.next('the first order', isOrder('order_placed', seen.product));
    first.close();

    const missed = [await placeOrder(user.id), await placeOrder(user.id)];
    const resumed = await connect('/events/stream?type=order_placed', { 'last-event-id': lastSeen.id! });
    for (const order of missed) await resumed.next(`missed order ${order.id}`, isOrder('order_placed', order.product));

    const ids = resumed.messages.map((m) => Number(m.id));
    expect(Math.min(...ids)).toBeGreaterThan(Number(lastSeen.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(resumed.messages.some((m) => isOrder('order_placed', seen.product)(m.data))).toBe(false);
  });

  it('sends the most recent events first when asked for a backlog', async () => {
    const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
    const watcher = await connect('/events/stream?type=order_placed');
    const order = await placeOrder(user.id);
    await watcher.next('the order on the live stream', isOrder('order_placed', order.product));

    const late = await connect('/events/stream?type=order_placed&backlog=3');
    await late.next('the order from the backlog', isOrder('order_placed', order.product));
    expect(late.messages.length).toBeLessThanOrEqual(3);
  });

  it('refuses an unknown type or a malformed Last-Event-ID with 400 naming it', async () => {
    const badType = await e2e.http.get('/events/stream?type=order_placed,order_lost').expect(400);
    expect(badType.body.errors).toEqual([expect.objectContaining({ field: 'type' })]);
    const badId = await e2e.http.get('/events/stream').set('Last-Event-ID', 'abc').expect(400);
    expect(badId.body.errors).toEqual([{ field: 'Last-Event-ID', messages: ['Last-Event-ID must be a non-negative integer'] }]);
    await e2e.http.get('/events/stream?backlog=5000').expect(400);
  });
});
