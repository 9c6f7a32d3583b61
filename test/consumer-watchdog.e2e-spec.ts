import type { Consumer } from 'kafkajs';
import { Topics } from '../src/events';
import { aQuietMinute, anOrderAt, untilConsuming } from './support/analytics';
import { E2eApp, startE2eApp } from './support/e2e-app';
import { OutsideProducer } from './support/kafka';
import { waitFor } from './support/wait-for';
import { ConsumerGroups } from '../src/messaging/kafka/consumer-groups';
import { ConsumerMembership } from '../src/messaging/kafka/consumer-membership';

describe('consumer watchdog: a partition left unfetched with records waiting', () => {
  let e2e: E2eApp;
  let outside: OutsideProducer;
  let consumer: Consumer;
  const stops: number[] = [];

  beforeAll(async () => {
    e2e = await startE2eApp({ KAFKA_STALL_RESTART_MS: '3000' });
    outside = await OutsideProducer.connect();
    await untilConsuming(e2e.db, outside);
    consumer = e2e.app.get(ConsumerMembership).consumerOf(ConsumerGroups.Persistence);
    consumer.on(consumer.events.STOP, () => stops.push(Date.now()));
  });
  afterAll(async () => {
    await outside?.close();
    await e2e?.close();
  });

  it('restarts the consumer, which then consumes what was waiting', async () => {
    // A paused topic is fetched no more: from outside, exactly what kafkajs' lost partition looks like.
    consumer.pause([{ topic: Topics.OrderPlaced }]);
    const order = anOrderAt(aQuietMinute());
    await outside.sendJson(Topics.OrderPlaced, order);

    const ingested = () => e2e.db.query(`SELECT 1 FROM orders WHERE id = $1`, [order.id]).then((rows) => rows.length > 0);
    await waitFor('the consumer to be restarted and the order ingested', ingested, { timeoutMs: 45_000, intervalMs: 200 });
    // The pause is forgotten only by a restart: without the watchdog the order would wait forever.
    expect(stops.length).toBeGreaterThanOrEqual(1);
    expect(e2e.app.get(ConsumerMembership).consumerOf(ConsumerGroups.Persistence)).toBe(consumer);
  });
});
