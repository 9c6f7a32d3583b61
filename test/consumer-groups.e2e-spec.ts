import { Topics } from '../src/events';
import { consumerGroupId, ConsumerGroups } from '../src/messaging/kafka/consumer-groups';
import { aQuietMinute, anOrderAt } from './support/analytics';
import { committedOffset, endOffsets, rewindGroup } from './support/consumer-group';
import { E2eApp, startE2eApp } from './support/e2e-app';
import { unique } from './support/factories';
import { OutsideProducer } from './support/kafka';
import { waitFor } from './support/wait-for';

describe('consumer groups: one per module', () => {
  let outside: OutsideProducer;
  let e2e: E2eApp | undefined;
  beforeAll(async () => {
    outside = await OutsideProducer.connect();
  });
  afterAll(async () => {
    await e2e?.close();
    await outside?.close();
  });

  it('go on where the one group of an earlier version got to, and each shows in readiness', async () => {
    // An earlier version consumed in the bare KAFKA_GROUP_ID, and got to the end of order_placed...
    const base = unique('nestream-e2e-upgrade');
    await rewindGroup(base, Topics.OrderPlaced, await endOffsets(Topics.OrderPlaced));
    // ...then an order came in while no version ran.
    const order = anOrderAt(aQuietMinute());
    await outside.sendJson(Topics.OrderPlaced, order);

    // Groups new to a broker start at its end here: without taking over, the order would be skipped.
    e2e = await startE2eApp({ KAFKA_GROUP_ID: base, KAFKA_FROM_BEGINNING: 'false' });
    const db = e2e.db;
    await waitFor('the order written during the upgrade to be ingested', async () => (await db.query(`SELECT 1 FROM orders WHERE id = $1`, [order.id])).length === 1, {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    const ready = (await e2e.http.get('/health/ready').expect(200)).body;
    expect(ready.info.kafka_consumer).toEqual({
      status: 'up',
      state: 'member',
      groups: Object.fromEntries(Object.values(ConsumerGroups).map((group) => [group, 'member'])),
    });
  });

  it('commits what it handled when it closes, however long its commit interval', async () => {
    // Every group takes over the end of order_placed, so only what is written from here on is consumed.
    const base = unique('nestream-e2e-interval');
    await rewindGroup(base, Topics.OrderPlaced, await endOffsets(Topics.OrderPlaced));
    // An interval no part of this test lasts: a commit can only come from the close.
    const app = await startE2eApp({ KAFKA_GROUP_ID: base, KAFKA_FROM_BEGINNING: 'false', KAFKA_COMMIT_INTERVAL_MS: '60000' });
    let closed = false;
    try {
      const order = anOrderAt(aQuietMinute());
      const offset = await outside.sendJsonTo(Topics.OrderPlaced, 1, order);
      await waitFor('the order to be ingested', async () => (await app.db.query(`SELECT 1 FROM orders WHERE id = $1`, [order.id])).length === 1, {
        timeoutMs: 30_000,
        intervalMs: 200,
      });
      await app.close();
      closed = true;
      expect(await committedOffset(consumerGroupId(base, ConsumerGroups.Persistence), Topics.OrderPlaced, 1)).toBe(offset + 1n);
    } finally {
      if (!closed) await app.close();
    }
  });
});
