// Raw baseline (c) of event latency: what the outbox relay, the Kafka consumer and the webhook
// dispatcher do, without the database or the framework. Records enter an in-memory queue at the
// offered rate (the "commit"); a relay loop sends everything queued with an idempotent producer and
// acks=all, as OutboxRelay does; a kafkajs consumer (eachMessage, as many partitions at once as the app's consumer)
// notes when each record arrives and POSTs a Standard Webhooks-signed request to the receiver.
// Started by bench/run.ts; config is argv[2] (JSON); each {run} message answers with {results}.
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { Webhook } from 'standardwebhooks';
import { Pool } from 'undici';

const config = JSON.parse(process.argv[2]);
const now = () => performance.timeOrigin + performance.now();
const kafka = new Kafka({ clientId: 'nestream-bench-raw-roundtrip', brokers: config.brokers, logLevel: logLevel.NOTHING });
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
const consumer = kafka.consumer({ groupId: config.groupId, allowAutoTopicCreation: false });
const receiver = new URL(config.receiverUrl);
const http = new Pool(receiver.origin, { connections: 50, pipelining: 1 });
const signer = new Webhook(config.secret);

const consumed = new Map(); // id -> arrival time
let queue = [];
let wake;

// The relay: whatever is queued goes out in one batch; an empty queue waits for the next record.
async function relay() {
  for (;;) {
    if (queue.length === 0) await new Promise((resolve) => (wake = resolve));
    const batch = queue;
    queue = [];
    await producer.send({ topic: config.topic, acks: -1, messages: batch.map((r) => ({ key: r.key, value: r.value })) });
  }
}

async function run({ tag, rate, warmupMs, measureMs }) {
  const created = new Map();
  const start = now();
  const measureFrom = start + warmupMs;
  const end = measureFrom + measureMs;
  let sent = 0;
  while (now() < end) {
    const due = Math.floor(((now() - start) * rate) / 1000);
    for (; sent < due; sent += 1) {
      const at = start + (sent * 1000) / rate;
      const id = `${tag}-${at >= measureFrom ? 'm' : 'w'}-${sent}`;
      if (at >= measureFrom) created.set(id, at);
      queue.push({ key: String(sent), value: JSON.stringify({ id, product: 'bench', amount: 10.5 }) });
    }
    wake?.();
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  // Every measured record consumed, or 30 s.
  const deadline = now() + 30_000;
  while ([...created.keys()].some((id) => !consumed.has(id)) && now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return [...created].map(([id, at]) => [id, at, consumed.get(id) ?? null]);
}

const admin = kafka.admin();
await admin.connect();
// Start at the end: records of earlier runs are not this run's.
const ends = (await admin.fetchTopicOffsets(config.topic)).map((p) => ({ partition: p.partition, offset: p.high }));
if (ends.some((p) => p.offset !== '0')) await admin.setOffsets({ groupId: config.groupId, topic: config.topic, partitions: ends });
await admin.disconnect();
await producer.connect();
await consumer.connect();
await consumer.subscribe({ topic: config.topic, fromBeginning: true });
const joined = new Promise((resolve) => consumer.on(consumer.events.GROUP_JOIN, resolve));
await consumer.run({
  partitionsConsumedConcurrently: config.concurrency,
  eachMessage: async ({ message }) => {
    const at = now();
    const body = message.value.toString('utf8');
    const { id } = JSON.parse(body);
    if (!consumed.has(id)) consumed.set(id, at);
    const msgId = `msg_${id}`;
    const ts = new Date(Math.floor(Date.now() / 1000) * 1000);
    const payload = JSON.stringify({ type: 'order_placed', timestamp: ts.toISOString(), data: { id } });
    // Fire and forget, as the app's dispatcher runs apart from its consumer.
    http
      .request({
        method: 'POST',
        path: receiver.pathname,
        headers: { 'content-type': 'application/json', 'webhook-id': msgId, 'webhook-timestamp': String(ts.getTime() / 1000), 'webhook-signature': signer.sign(msgId, ts, payload) },
        body: payload,
      })
      .then((res) => res.body.dump())
      .catch(() => undefined);
  },
});
await joined;
relay().catch((err) => {
  console.error(err);
  process.exit(1);
});
process.send({ ready: true });

process.on('message', async (m) => {
  if (m.run) process.send({ results: await run(m.run) });
  if (m.stop) {
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await http.close();
    process.exit(0);
  }
});

// The harness went away: so do we.
process.on('disconnect', () => process.exit(0));
