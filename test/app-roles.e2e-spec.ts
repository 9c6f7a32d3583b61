import { WebhookDispatcher } from '../src/webhooks/dispatch/webhook-dispatcher.service';
import { E2eApp, startE2eApp } from './support/e2e-app';
import { anOrder, aUser, unique } from './support/factories';
import { waitFor } from './support/wait-for';
import { WebhookReceiver } from './support/webhook-receiver';
import { ConsumerGroups } from '../src/messaging/kafka/consumer-groups';

const ADMIN = { authorization: `Bearer ${process.env.ADMIN_TOKEN}` };

describe('APP_ROLE: an api process and a worker process split the work', () => {
  let api: E2eApp;
  let worker: E2eApp;
  let receiver: WebhookReceiver;
  let subscriptionId: number | undefined;

  beforeAll(async () => {
    api = await startE2eApp({ APP_ROLE: 'api' });
    worker = await startE2eApp({ APP_ROLE: 'worker' });
    receiver = await WebhookReceiver.start();
  });
  afterAll(async () => {
    if (subscriptionId !== undefined) await api?.http.delete(`/webhooks/${subscriptionId}`).set(ADMIN);
    await worker?.close();
    await api?.close();
    await receiver?.stop();
  });

  it('the api process runs no consumers and says so in readiness', async () => {
    expect(api.app.getMicroservices()).toHaveLength(0);
    const ready = (await api.http.get('/health/ready').expect(200)).body;
    expect(ready.info.kafka_consumer).toEqual({ status: 'up', state: 'not consuming (APP_ROLE=api)' });
    // The dashboard it serves still shows every group's lag, read from the broker.
    const { consumerLag } = (await api.http.get('/analytics/pipeline').expect(200)).body;
    const groups = consumerLag.groups.map((g: { groupId: string; total?: number }) => `${g.groupId} ${typeof g.total}`).sort();
    expect(groups).toEqual(Object.values(ConsumerGroups).map((group) => `${process.env.KAFKA_GROUP_ID}.${group} number`).sort());
  });

  it("the worker's HTTP port serves health and metrics only", async () => {
    // One transport, and one consumer group, per consumer.
    expect(worker.app.getMicroservices()).toHaveLength(Object.values(ConsumerGroups).length);
    await worker.http.get('/health/ready').expect(200);
    await worker.http.get('/metrics').expect(200);
    const refused = await worker.http.post('/users').send(aUser()).expect(404);
    expect(refused.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'this process runs APP_ROLE=worker: it serves /health and /metrics only' });
  });

  it("a write to the api is enriched by the worker's consumer and its webhook sent by the worker's dispatcher", async () => {
    const sub = (await api.http.post('/webhooks').set(ADMIN).send({ url: receiver.url, events: ['order_placed'] }).expect(201)).body;
    subscriptionId = sub.id;
    const user = (await api.http.post('/users').send(aUser()).expect(201)).body;
    const order = (await api.http.post('/orders').send(anOrder(user.id)).expect(201)).body;

    const enriched = await waitFor('customer on the order', async () => {
      const body = (await api.http.get(`/orders/${order.id}`).expect(200)).body;
      return body.customer ? body : undefined;
    });
    expect(enriched.customer).toEqual({ id: user.id, name: user.name, email: user.email });

    await receiver.next('the order_placed webhook', (r) => r.json.data?.id === order.id);
    // Counted once the result is recorded, just after the receiver answered.
    await waitFor('the delivery recorded by the worker', () => worker.app.get(WebhookDispatcher).deliveredCount > 0);
    expect(api.app.get(WebhookDispatcher).claimRounds).toBe(0);
  });

  it('a worker with KAFKA_CONSUMER_GROUPS runs only the groups it lists', async () => {
    // Groups of its own: joining and leaving the worker's groups would rebalance them under the other tests.
    const partial = await startE2eApp({
      APP_ROLE: 'worker',
      KAFKA_GROUP_ID: unique('nestream-e2e-chosen-groups'),
      KAFKA_CONSUMER_GROUPS: `${ConsumerGroups.Persistence}, ${ConsumerGroups.Live}`,
    });
    try {
      expect(partial.app.getMicroservices()).toHaveLength(2);
      const ready = (await partial.http.get('/health/ready').expect(200)).body;
      expect(Object.keys(ready.info.kafka_consumer.groups).sort()).toEqual([ConsumerGroups.Live, ConsumerGroups.Persistence]);
    } finally {
      await partial.close();
    }
  });
});
