// Raw baseline (b) of ingest: a bare kafkajs consumer with eachBatch storing outside order_placed
// records as the ingest consumer does (inbox row for deduplication, upsert of the order by id, the
// orders sequence moved past outside ids, an event_log entry with origin "ingested"), one
// transaction per batch instead of one per record. Started by bench/run.ts; config is argv[2] (JSON).
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';

const config = JSON.parse(process.argv[2]);
const db = new pg.Pool({ connectionString: config.databaseUrl, max: config.poolSize, application_name: 'bench-raw-ingest' });
// An idle connection cut by the server must not crash the baseline; the next query reconnects.
db.on('error', () => undefined);
const kafka = new Kafka({ clientId: 'nestream-bench-raw-ingest', brokers: config.brokers, logLevel: logLevel.NOTHING });
const consumer = kafka.consumer({ groupId: config.groupId, allowAutoTopicCreation: false, sessionTimeout: 30_000 });

const STORE = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb)
    AS x(message_id text, id bigint, user_id bigint, product text, amount numeric, quantity int, status text,
         payload jsonb, metadata jsonb, occurred_at timestamptz)
),
claimed AS (
  INSERT INTO inbox (consumer, message_id) SELECT 'persistence.ingest', message_id FROM input
  ON CONFLICT DO NOTHING RETURNING message_id
),
fresh AS (
  SELECT DISTINCT ON (i.id) i.* FROM input i JOIN claimed c USING (message_id) ORDER BY i.id, i.message_id DESC
),
upserted AS (
  INSERT INTO orders AS o (id, user_id, product, amount, quantity, status, version)
  SELECT id, user_id, product, amount, COALESCE(quantity, 1), COALESCE(status, 'placed'), 1 FROM fresh
  ON CONFLICT (id) DO UPDATE
    SET user_id = COALESCE(EXCLUDED.user_id, o.user_id), product = EXCLUDED.product, amount = EXCLUDED.amount,
        quantity = EXCLUDED.quantity, status = EXCLUDED.status, version = o.version + 1, updated_at = now()
  RETURNING id, version
),
logged AS (
  INSERT INTO event_log (event_id, type, entity_type, entity_id, version, payload, metadata, origin, occurred_at, schema_version)
  SELECT f.message_id, 'order_placed', 'order', f.id::text, u.version, f.payload, f.metadata, 'ingested', f.occurred_at, 1
  FROM fresh f JOIN upserted u USING (id)
  ON CONFLICT (event_id) DO NOTHING
)
SELECT count(*)::int AS n, max(id) AS max_id FROM upserted`;

await consumer.connect();
await consumer.subscribe({ topic: config.topic, fromBeginning: true });
await consumer.run({
  partitionsConsumedConcurrently: config.concurrency,
  eachBatchAutoResolve: true,
  eachBatch: async ({ batch, heartbeat }) => {
    const rows = [];
    for (const m of batch.messages) {
      let p;
      try {
        p = JSON.parse(m.value.toString('utf8'));
      } catch {
        continue; // the app dead-letters these; none are written by the benchmark
      }
      rows.push({
        message_id: `kafka:${batch.topic}:${batch.partition}:${m.offset}:${m.timestamp}`, // as the app's recordId
        id: p.id,
        user_id: p.userId ?? null,
        product: p.product,
        amount: p.amount,
        quantity: p.quantity ?? 1,
        status: p.status ?? 'placed',
        payload: p,
        metadata: { kafka: { topic: batch.topic, partition: batch.partition, offset: m.offset } },
        occurred_at: new Date(Number(m.timestamp)).toISOString(),
      });
    }
    if (rows.length === 0) return;
    const client = await db.connect();
    try {
      await client.query('BEGIN');
      // As the app does: outside ids move the sequence past them, under one lock.
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('orders.id'))`);
      const { rows: [r] } = await client.query(STORE, [JSON.stringify(rows)]);
      if (r.max_id !== null) {
        await client.query(`SELECT setval(pg_get_serial_sequence('orders', 'id'), $1::bigint) WHERE $1::bigint > (SELECT last_value FROM orders_id_seq)`, [r.max_id]);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    await heartbeat();
  },
});
process.send({ ready: true });

process.on('message', async (m) => {
  if (m.stop) {
    await consumer.disconnect().catch(() => undefined);
    await db.end();
    process.exit(0);
  }
});

// The harness went away: so do we.
process.on('disconnect', () => process.exit(0));
