// Raw baseline (a) of the write path: a bare Node `http` server doing what POST /orders does to the
// database (check the user under a share lock, insert the order, append its event to event_log and its
// record to outbox) in ONE round trip: one statement with CTEs, so one implicit transaction. No
// framework, no validation library, no logging. Started by bench/run.ts; config is argv[2] (JSON).
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import pg from 'pg';

const config = JSON.parse(process.argv[2]);
const db = new pg.Pool({ connectionString: config.databaseUrl, max: config.poolSize, application_name: 'bench-raw-http' });
// An idle connection cut by the server must not crash the baseline; the next query reconnects.
db.on('error', () => undefined);

const PLACE = `
WITH u AS (SELECT id FROM users WHERE id = $1 FOR SHARE),
o AS (
  INSERT INTO orders (user_id, product, amount, quantity, status, version)
  SELECT u.id, $2, $3, $4, 'placed', 1 FROM u
  RETURNING id, user_id, product, amount, quantity, status, version, created_at, updated_at
),
e AS (
  SELECT o.*, jsonb_build_object(
    'id', o.id, 'userId', o.user_id, 'product', o.product, 'amount', o.amount, 'quantity', o.quantity,
    'status', o.status, 'version', o.version,
    'createdAt', to_char(o.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'updatedAt', to_char(o.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) AS payload
  FROM o
),
l AS (
  INSERT INTO event_log (event_id, type, entity_type, entity_id, version, payload, metadata, origin, occurred_at, schema_version)
  SELECT $5, 'order_placed', 'order', e.id::text, 1, e.payload, $6::jsonb || jsonb_build_object('ce_subject', e.id::text), 'nestream', e.updated_at, 1
  FROM e
),
x AS (
  INSERT INTO outbox (event_id, topic, key, value, headers)
  SELECT $5, 'order_placed', e.id::text, convert_to(e.payload::text, 'UTF8'), $6::jsonb || jsonb_build_object('ce_subject', e.id::text)
  FROM e
)
SELECT (e.payload || '{"customer": null}'::jsonb)::text AS body FROM e`;

function reply(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/orders') return reply(res, 404, '{"statusCode":404}');
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    let dto;
    try {
      dto = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return reply(res, 400, '{"statusCode":400,"message":"malformed JSON"}');
    }
    if (!Number.isInteger(dto?.userId) || typeof dto.product !== 'string' || typeof dto.amount !== 'number') {
      return reply(res, 400, '{"statusCode":400,"message":"Validation failed"}');
    }
    const eventId = randomUUID();
    const headers = {
      ce_specversion: '1.0',
      ce_id: eventId,
      ce_type: 'order_placed',
      ce_source: '/nestream/orders',
      ce_time: new Date().toISOString(),
      ce_entityversion: '1',
      ce_dataschema: 'urn:nestream:schema:order_placed:1',
      'content-type': 'application/json',
    };
    try {
      const { rows } = await db.query(PLACE, [dto.userId, dto.product, dto.amount, dto.quantity ?? 1, eventId, JSON.stringify(headers)]);
      if (rows.length === 0) return reply(res, 422, '{"statusCode":422,"message":"user does not exist"}');
      reply(res, 201, rows[0].body);
    } catch (err) {
      reply(res, 500, JSON.stringify({ statusCode: 500, message: err.message }));
    }
  });
});
server.keepAliveTimeout = 30_000;

server.listen(config.port, '127.0.0.1', () => process.send({ ready: true }));
process.on('message', async (m) => {
  if (m.stop) {
    server.close();
    server.closeAllConnections();
    await db.end();
    process.exit(0);
  }
});

// The harness went away: so do we.
process.on('disconnect', () => process.exit(0));
