import type { Consumer } from 'kafkajs';
import { Topics } from '../src/events';
import { aQuietMinute, anOrderAt, untilConsuming } from './support/analytics';
import { E2eApp, startE2eApp } from './support/e2e-app';
import { OutsideProducer } from './support/kafka';
import { waitFor } from './support/wait-for';
import { ConsumerGroups } from '../src/messaging/kafka/consumer-groups';
import { ConsumerMembership } from '../src/messaging/kafka/consumer-membership';

/**
 * kafkajs can move a partition's position past records no handler saw: after its own restart it starts
 * a partition the group never committed at the end (KAFKA_FROM_BEGINNING=false, as here), and it resets
 * to the end on "offset out of range". Here a seek past records the consumer has not fetched does the
 * same, from outside; the app must go back and consume them.
 */
describe('records the consumer skipped', () => {
  let outside: OutsideProducer;
  beforeAll(async () => {
    outside = await OutsideProducer.connect();
  });
  afterAll(async () => {
    await outside?.close();
  });

  /** Orders on one partition that the consumer's position then moves past, unfetched. */
  async function skippedOrders(e2e: E2eApp, consumer: Consumer, partition: number): Promise<number[]> {
    const topic = Topics.OrderPlaced;
    // One record handled first: the app knows where this partition got to.
    const handled = anOrderAt(aQuietMinute());
    await outside.sendJsonTo(topic, partition, handled);
    await waitFor('the first order to be ingested', () => ingested(e2e, [handled.id]).then((n) => n === 1), { timeoutMs: 30_000, intervalMs: 100 });

    consumer.pause([{ topic, partitions: [partition] }]);
    const skipped = [anOrderAt(aQuietMinute()), anOrderAt(aQuietMinute()), anOrderAt(aQuietMinute())];
    let last = 0n;
    for (const order of skipped) last = await outside.sendJsonTo(topic, partition, order);
    consumer.seek({ topic, partition, offset: String(last + 1n) });
    consumer.resume([{ topic, partitions: [partition] }]);
    return skipped.map((o) => o.id);
  }

  describe('when the next batch is fetched from past them', () => {
    let e2e: E2eApp;
    let consumer: Consumer;
    beforeAll(async () => {
      // No watchdog: only the batch itself can show the skip.
      e2e = await startE2eApp({ KAFKA_STALL_RESTART_MS: '0' });
      await untilConsuming(e2e.db, outside);
      consumer = e2e.app.get(ConsumerMembership).consumerOf(ConsumerGroups.Persistence);
    });
    afterAll(async () => {
      await e2e?.close();
    });

    it('goes back to them before handling the batch', async () => {
      const skipped = await skippedOrders(e2e, consumer, 0);
      const next = anOrderAt(aQuietMinute());
      await outside.sendJsonTo(Topics.OrderPlaced, 0, next);
      const all = [...skipped, next.id];
      await waitFor('the skipped orders and the next one to be ingested', () => ingested(e2e, all).then((n) => n === all.length), {
        timeoutMs: 30_000,
        intervalMs: 200,
      });
    });
  });

  describe('on a partition that stays quiet after them', () => {
    let e2e: E2eApp;
    let consumer: Consumer;
    const stops: number[] = [];
    beforeAll(async () => {
      // The watchdog looks every 5 s; no batch comes, so the committed offset past what was handled
      // is the only sign. A partition is restarted only after 15 s without a batch while behind.
      e2e = await startE2eApp({ KAFKA_STALL_RESTART_MS: '15000' });
      await untilConsuming(e2e.db, outside);
      consumer = e2e.app.get(ConsumerMembership).consumerOf(ConsumerGroups.Persistence);
      consumer.on(consumer.events.STOP, () => stops.push(Date.now()));
    });
    afterAll(async () => {
      await e2e?.close();
    });

    it('sees the group committed past them and goes back', async () => {
      const skipped = await skippedOrders(e2e, consumer, 1);
      await waitFor('the skipped orders to be ingested', () => ingested(e2e, skipped).then((n) => n === skipped.length), {
        timeoutMs: 40_000,
        intervalMs: 200,
      });
      // Brought back by a seek, not by the watchdog restarting a stalled consumer.
      expect(stops).toEqual([]);
    });
  });
});

async function ingested(e2e: E2eApp, ids: number[]): Promise<number> {
  const [row] = await e2e.db.query(`SELECT count(*)::int AS n FROM orders WHERE id = ANY($1)`, [ids]);
  return row.n;
}
