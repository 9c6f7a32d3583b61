// Raw baseline of webhook fan-out: the same number of Standard Webhooks-signed POSTs to the same
// receiver, at the app's dispatch concurrency (WEBHOOK_DISPATCH_CONCURRENCY, 50), straight from memory:
// no claim, no lease, no delivery log. Started by bench/run.ts; config is argv[2] (JSON).
import { performance } from 'node:perf_hooks';
import { Webhook } from 'standardwebhooks';
import { Pool } from 'undici';

const config = JSON.parse(process.argv[2]);
const now = () => performance.timeOrigin + performance.now();

async function run({ channels, events, deadlineMs }) {
  const origin = new URL(channels[0].url).origin;
  const http = new Pool(origin, { connections: config.concurrency, pipelining: 1 });
  const signers = channels.map((c) => ({ path: new URL(c.url).pathname, webhook: new Webhook(c.secret) }));
  const total = channels.length * events;
  const start = now();
  const stopAt = start + deadlineMs;
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: config.concurrency }, async () => {
      while (next < total && now() < stopAt) {
        const i = next++;
        const s = signers[i % signers.length];
        const id = Math.floor(i / signers.length);
        const msgId = `msg_raw_${i}`;
        const ts = new Date(Math.floor(Date.now() / 1000) * 1000);
        const body = JSON.stringify({ type: 'order_placed', timestamp: ts.toISOString(), data: { id, product: 'bench', amount: 10.5 } });
        const res = await http.request({
          method: 'POST',
          path: s.path,
          headers: { 'content-type': 'application/json', 'webhook-id': msgId, 'webhook-timestamp': String(ts.getTime() / 1000), 'webhook-signature': s.webhook.sign(msgId, ts, body) },
          body,
        });
        await res.body.dump();
        if (res.statusCode < 300) done += 1;
      }
    }),
  );
  const seconds = (now() - start) / 1000;
  await http.close();
  return { deliveries: done, seconds, complete: done === total };
}

process.send({ ready: true });
process.on('message', async (m) => {
  if (m.run) process.send({ results: await run(m.run) });
  if (m.stop) process.exit(0);
});

// The harness went away: so do we.
process.on('disconnect', () => process.exit(0));
