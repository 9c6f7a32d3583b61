import { Topics } from '../../src/events';
import { recordId } from '../../src/messaging/envelope';
import { AppProcess } from '../support/app-process';
import { waitFor } from '../support/wait-for';
import { appEnv, startInstances, stopInstances } from './support/apps';
import { SINGLE_BROKER } from './support/infra';
import { endOffsets, groupsStableWith, readSince, startGroupAtEnd } from './support/kafka-ledger';
import { OutsideOrders } from './support/load';
import { printLine, progress } from './support/summary';
import { withDb } from './support/tally';

/**
 * The consumers of order_placed with work for an outside order without a user (the enrichment has none,
 * so no inbox row): an order is done once each has its inbox row.
 */
const ORDER_PLACED_CONSUMERS = ['persistence.ingest', 'analytics', 'live.feed', 'webhooks.fanout'];
const BACKLOG = 10_000;

/**
 * Not a fault: how fast one instance, then two, work through the same burst of outside orders
 * (written in a second or two, far faster than they are consumed, so it is a backlog), with every
 * instance already in the group. Printed, never asserted: the numbers depend on the machine, and on two
 * cores the instances, PostgreSQL and the broker share one CPU budget.
 */
describe('scale-out: consumer throughput with one and with two instances', () => {
  let instances: AppProcess[] = [];

  afterAll(() => stopInstances('scale-out', instances));

  it('measures the same backlog consumed by one instance and by two', async () => {
    const note = progress('scale-out');
    const rates: Record<number, string> = {};
    for (const count of [1, 2]) {
      const group = `nestream-faults-scale-${count}`;
      await startGroupAtEnd(SINGLE_BROKER, group);
      instances = await startInstances(count, appEnv(group));
      await waitFor(`${count} member(s) in every stable consumer group`, () => groupsStableWith(SINGLE_BROKER, group, count), { timeoutMs: 60_000, intervalMs: 250 });

      const from = await endOffsets(SINGLE_BROKER, [Topics.OrderPlaced]);
      // Many products in one minute, like real traffic: the minute's analytics row is shared, product rows are not.
      const orders = await OutsideOrders.connect(SINGLE_BROKER, { productPerOrder: true });
      await orders.send(BACKLOG, 250);
      await orders.close();
      const sent = new Set(orders.sent.map(String));
      const ids = (await readSince(SINGLE_BROKER, [Topics.OrderPlaced], from))
        .filter((r) => r.key !== null && sent.has(r.key))
        .map((r) => recordId(r.topic, r.partition, r.offset, r.timestamp));
      note(`${count} instance(s): backlog of ${ids.length} orders written`);

      const done = () =>
        withDb(async (db) => {
          const { rows } = await db.query(
            `SELECT count(*)::int AS n, EXTRACT(EPOCH FROM max(processed_at) - min(processed_at))::float8 AS seconds
               FROM inbox WHERE message_id = ANY($1) AND consumer = ANY($2)`,
            [ids, ORDER_PLACED_CONSUMERS],
          );
          return rows[0] as { n: number; seconds: number };
        });
      const finished = await waitFor(`${count} instance(s) to consume the backlog`, async () => {
        const d = await done();
        return d.n >= ids.length * ORDER_PLACED_CONSUMERS.length ? d : undefined;
      }, { timeoutMs: 180_000, intervalMs: 500 });
      rates[count] = (ids.length / Math.max(finished.seconds, 0.001)).toFixed(0);
      note(`${count} instance(s): ${ids.length} orders in ${finished.seconds.toFixed(1)} s`);
      await stopInstances(`scale-out-${count}`, instances);
      instances = [];
    }
    printLine(`scale-out: backlog=${BACKLOG} orders × ${ORDER_PLACED_CONSUMERS.length} consumers; one instance ${rates[1]} orders/s, two instances ${rates[2]} orders/s`);
  });
});
