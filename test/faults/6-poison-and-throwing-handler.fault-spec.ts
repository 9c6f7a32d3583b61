import { INestApplication } from '@nestjs/common';
import { CompressionTypes, Partitioners, Producer } from 'kafkajs';
import { createApp, startApp } from '../../src/bootstrap';
import { deadLetterTopicOf, Topics } from '../../src/events';
import { DLQ_HEADERS } from '../../src/messaging/consumer/dead-letter.service';
import { aQuietMinute, anOrderAt } from '../support/analytics';
import type { ReadRecord } from '../support/kafka';
import { waitFor } from '../support/wait-for';
import { appEnv } from './support/apps';
import { ALWAYS_THROWS, AlwaysThrowsModule } from './support/always-throws.module';
import { SINGLE_BROKER } from './support/infra';
import { endOffsets, kafkaOf, readSince, startGroupAtEnd } from './support/kafka-ledger';
import { progress, report } from './support/summary';
import { withDb } from './support/tally';

const GROUP = 'nestream-faults-6';
const PARTITION = 2;
const GOOD_ORDERS = 20;
const MAX_ATTEMPTS = 3;
const DLQ = deadLetterTopicOf(Topics.OrderPlaced);

describe('fault 6: a poison message and a handler that always throws', () => {
  let app: INestApplication | undefined;
  let producer: Producer | undefined;
  const saved = { ...process.env };

  beforeAll(async () => {
    // In this process, so the app can carry the extra module; settings as an instance under test would have.
    Object.assign(process.env, appEnv(GROUP, { CONSUMER_MAX_ATTEMPTS: String(MAX_ATTEMPTS), LOG_LEVEL: 'error' }));
    await startGroupAtEnd(SINGLE_BROKER, GROUP);
    app = await createApp([AlwaysThrowsModule]);
    await startApp(app, 0);
    producer = kafkaOf(SINGLE_BROKER, 'nestream-faults-outside').producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
  });
  afterAll(async () => {
    await producer?.disconnect();
    await app?.close();
    process.env = saved;
  });

  it('dead-letters both with their origin, error and attempts in headers, and keeps the partition moving', async () => {
    const note = progress('6');
    const from = await endOffsets(SINGLE_BROKER, [Topics.OrderPlaced, DLQ]);
    const minute = aQuietMinute();
    const orders = Array.from({ length: GOOD_ORDERS }, () => anOrderAt(minute, { product: 'fault-6' }));
    // One partition, in this order: the poison first, then orders every consumer but the broken one can handle.
    const [sent] = await producer!.send({
      topic: Topics.OrderPlaced,
      acks: -1,
      compression: CompressionTypes.None,
      messages: [
        { partition: PARTITION, key: 'fault-6-poison', value: '{"id": 6, "product": "sofa", "amount": ' },
        ...orders.map((o) => ({ partition: PARTITION, key: String(o.id), value: JSON.stringify(o) })),
      ],
    });
    const poisonOffset = BigInt(sent.baseOffset!);
    const offsets = Array.from({ length: GOOD_ORDERS + 1 }, (_, i) => String(poisonOffset + BigInt(i)));
    const startedAt = Date.now();
    note(`poison at ${Topics.OrderPlaced}[${PARTITION}]@${poisonOffset}, ${GOOD_ORDERS} orders after it`);

    const ids = orders.map((o) => o.id);
    const effects = () =>
      withDb(async (db) => {
        const stored = await db.query(`SELECT id, version FROM orders WHERE id = ANY($1::bigint[])`, [ids]);
        const counted = await db.query(`SELECT placed FROM analytics_minute_windows WHERE window_start = $1`, [minute]);
        const letters = await db.query(
          `SELECT consumer, "offset"::text AS "offset", attempts FROM dead_letters WHERE topic = $1 AND "partition" = $2 AND "offset" = ANY($3::bigint[])`,
          [Topics.OrderPlaced, PARTITION, offsets],
        );
        const pending = await db.query(`SELECT count(*)::int AS n FROM outbox WHERE topic = $1`, [DLQ]);
        return {
          stored: stored.rows as { id: string; version: number }[],
          counted: Number(counted.rows[0]?.placed ?? 0),
          letters: letters.rows as { consumer: string; offset: string; attempts: number }[],
          pendingDlq: pending.rows[0].n as number,
        };
      });
    let settled = true;
    await waitFor(
      'every order to be stored and counted, and the poison and each order dead-lettered by the broken handler',
      async () => {
        const e = await effects();
        return e.stored.length === GOOD_ORDERS && e.counted === GOOD_ORDERS && e.letters.length === GOOD_ORDERS + 1 && e.pendingDlq === 0;
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    ).catch(() => (settled = false));
    const movedSeconds = ((Date.now() - startedAt) / 1000).toFixed(1);
    note('settled');

    const e = await effects();
    const records = await readSince(SINGLE_BROKER, [DLQ], from);
    const ours = records.filter((r) => r.headers[DLQ_HEADERS.originalTopic] === Topics.OrderPlaced && r.headers[DLQ_HEADERS.originalPartition] === String(PARTITION) && offsets.includes(r.headers[DLQ_HEADERS.originalOffset]));
    const poison = ours.filter((r) => r.headers[DLQ_HEADERS.originalOffset] === offsets[0]);
    const thrown = ours
      .filter((r) => r.headers[DLQ_HEADERS.consumer] === ALWAYS_THROWS)
      .sort((a, b) => Number(a.headers[DLQ_HEADERS.originalOffset]) - Number(b.headers[DLQ_HEADERS.originalOffset]));
    // Other apps on the shared broker read the poison too and dead-letter it as well (consumer `*`), so
    // on the topic it may appear more than once; this app's own copy is its single dead_letters row.
    // The broken handler exists only here: one record per order, exactly.
    const ownPoisonRows = e.letters.filter((l) => l.consumer === '*' && l.offset === offsets[0]).length;
    const distinctThrown = new Set(thrown.map((r) => r.headers[DLQ_HEADERS.originalOffset])).size;
    const duplicated = thrown.length - distinctThrown + Math.max(0, ownPoisonRows - 1) + e.stored.filter((o) => o.version > 1).length + Math.max(0, e.counted - GOOD_ORDERS);
    // Each message must end up either handled or on the dead-letter topic: the poison there, each order both.
    const lost = (poison.length === 0 || ownPoisonRows === 0 ? 1 : 0) + (GOOD_ORDERS - Math.min(GOOD_ORDERS, e.stored.length, e.counted)) + (GOOD_ORDERS - distinctThrown);
    report('6 poison-and-throwing-handler', {
      accepted: GOOD_ORDERS + 1,
      stored: e.stored.length,
      published: (poison.length > 0 ? 1 : 0) + distinctThrown,
      consumed: Math.min(e.stored.length, e.counted),
      lost,
      duplicated,
      poisonDeadLettered: ownPoisonRows,
      poisonCopiesOnTopic: poison.length,
      throwingDeadLettered: thrown.length,
      attempts: [...new Set(thrown.map((r) => r.headers[DLQ_HEADERS.attempts]))].join(',') || '-',
      partitionMovedSeconds: movedSeconds,
    });

    expect(settled).toBe(true);
    expect(ownPoisonRows).toBe(1);
    expect(poison.length).toBeGreaterThanOrEqual(1);
    for (const letter of poison.map(describeLetter)) {
      expect(letter).toEqual({ consumer: '*', topic: Topics.OrderPlaced, partition: String(PARTITION), offset: offsets[0], attempts: '0', reason: expect.stringMatching(/not JSON/) });
    }
    expect(thrown.map(describeLetter)).toEqual(
      offsets.slice(1).map((offset) => ({
        consumer: ALWAYS_THROWS,
        topic: Topics.OrderPlaced,
        partition: String(PARTITION),
        offset,
        attempts: String(MAX_ATTEMPTS),
        reason: expect.stringMatching(new RegExp(`^${ALWAYS_THROWS} cannot handle order \\d+$`)),
      })),
    );
    expect({ lost, duplicated }).toEqual({ lost: 0, duplicated: 0 });
  });
});

function describeLetter(r: ReadRecord) {
  return {
    consumer: r.headers[DLQ_HEADERS.consumer],
    topic: r.headers[DLQ_HEADERS.originalTopic],
    partition: r.headers[DLQ_HEADERS.originalPartition],
    offset: r.headers[DLQ_HEADERS.originalOffset],
    attempts: r.headers[DLQ_HEADERS.attempts],
    reason: r.headers[DLQ_HEADERS.reason],
  };
}
