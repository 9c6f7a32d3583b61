import { randomBytes } from 'node:crypto';
import { Topics } from '../../src/events';
import { Backlog, BenchContext, drain, requireApp } from '../context';
import { openLoopOrders } from '../lib/load';
import { BaselineProcess } from '../lib/processes';
import { Percentiles, percentiles, ratios } from '../lib/stats';
import { nowMs, sleep } from '../lib/time';
import { appSetting } from '../settings';
import { subscribe, Subscription, unsubscribe, WebhooksUnavailable } from '../lib/webhooks-api';

export const ROUNDTRIP_TOPIC = 'nestream-bench.roundtrip';
/** The consumer whose inbox row says "a Nest consumer handled the event" (the enrichment handles every order_placed with a user, as every order the harness POSTs has). */
const CONSUMER = 'orders.enrichment';
/**
 * Longest wait, after a run, for its last events to be handled and delivered. An event still missing
 * then counts with the time it had waited so far: a lower bound, so an overloaded run reads as slow,
 * not as fast (its `missing` says how many).
 */
export const SETTLE_MS = 15_000;

export type Delays = Percentiles & { missing: number };

export interface LatencySide {
  /** Writes answered (app) or records produced (baseline) within the measured window, per second. */
  achievedRate: number;
  /** Commit (the HTTP answer; the baseline's enqueue) → a consumer handled it. */
  consumer: Delays;
  /** Commit → the local receiver got the webhook; null when webhooks are skipped. */
  webhook: Delays | null;
}

export interface LatencyLevel {
  offeredRate: number;
  nestream: LatencySide & {
    /** Commit → the relay sent the record (its Kafka timestamp): the first part of commit → consumer. */
    relay: Delays;
    writeLatency: Percentiles;
    errors: number;
    backlog: Backlog;
  };
  baseline: LatencySide;
  ratio: { consumer: { p50: number; p95: number; p99: number }; webhook: { p50: number; p95: number; p99: number } | null };
}

export interface EventLatencyResult {
  webhooks: { status: 'measured' | 'skipped'; reason?: string; signatures?: { checked: number; valid: number } };
  levels: Record<string, LatencyLevel>;
}

/** ms since epoch at which the consumer's inbox row was written, per order id. */
async function handledAt(ctx: BenchContext, ids: number[]): Promise<Map<number, number>> {
  const { rows } = await ctx.appDb.query(
    `SELECT l.entity_id::bigint AS id, (extract(epoch FROM i.processed_at) * 1000)::float8 AS at
       FROM event_log l JOIN inbox i ON i.consumer = $2 AND i.message_id = l.event_id
      WHERE l.entity_type = 'order' AND l.type = 'order_placed' AND l.entity_id = ANY($1::text[])`,
    [ids.map(String), CONSUMER],
  );
  return new Map(rows.map((r: { id: string; at: number }) => [Number(r.id), r.at]));
}

/** end − start per id; an id with no end counts as `gaveUpAt` − start (a lower bound). */
function delays(start: Map<unknown, number>, end: Map<unknown, number>, gaveUpAt: number): Delays {
  const values: number[] = [];
  let missing = 0;
  for (const [id, t0] of start) {
    const t1 = end.get(id);
    if (t1 === undefined) missing += 1;
    values.push((t1 ?? gaveUpAt) - t0);
  }
  return { ...percentiles(values), missing };
}

export async function measureEventLatency(ctx: BenchContext): Promise<EventLatencyResult> {
  const result: EventLatencyResult = { webhooks: { status: 'measured' }, levels: {} };
  let sub: Subscription | undefined;
  try {
    sub = await subscribe(requireApp(ctx).url, ctx.adminToken, ctx.receiver.url('latency'), 'latency', ['order_placed']);
  } catch (err) {
    if (!(err instanceof WebhooksUnavailable)) throw err;
    result.webhooks = { status: 'skipped', reason: err.message };
    ctx.log(`  webhooks skipped: ${err.message}`);
  }
  const rawSecret = `whsec_${randomBytes(32).toString('base64')}`;
  const raw = await BaselineProcess.start('raw-roundtrip.mjs', {
    brokers: ctx.kafka.brokers,
    topic: ROUNDTRIP_TOPIC,
    groupId: `nestream-bench-roundtrip-${ctx.runId}`,
    receiverUrl: ctx.receiver.url('raw-latency'),
    secret: rawSecret,
    // As many partitions at once as the app's consumer.
    concurrency: appSetting('KAFKA_CONSUMER_CONCURRENCY'),
  });
  const { warmupMs, measureMs } = ctx.settings;
  const tap = await ctx.kafka.tap(Topics.OrderPlaced);
  try {
    for (const rate of ctx.settings.rates) {
      ctx.receiver.clear();
      const run = await openLoopOrders(requireApp(ctx).url, rate, warmupMs, measureMs, ctx.userIds, `bench-latency-${rate}`);
      const respondedAt = new Map<unknown, number>(run.writes.map((w) => [w.id!, w.respondedAt]));
      const ids = run.writes.map((w) => w.id!);
      const settleUntil = nowMs() + SETTLE_MS;
      let handled = await handledAt(ctx, ids);
      const tapped = () => ids.every((id) => tap.sentAt.has(id));
      while (nowMs() < settleUntil && (handled.size < ids.length || !tapped() || (sub && ctx.receiver.firstArrivals('latency').size < ids.length))) {
        await sleep(100);
        handled = await handledAt(ctx, ids);
      }
      const gaveUpAt = nowMs();
      const nConsumer = delays(respondedAt, handled, gaveUpAt);
      const nRelay = delays(respondedAt, tap.sentAt, gaveUpAt);
      const nWebhook = sub ? delays(respondedAt, ctx.receiver.firstArrivals('latency'), gaveUpAt) : null;
      const backlog = await drain(ctx);
      const missing = nConsumer.missing + (nWebhook?.missing ?? 0) > 0 ? ` (${nConsumer.missing}/${nWebhook?.missing ?? '-'} not there after ${SETTLE_MS / 1000} s)` : '';
      ctx.log(`  ${rate}/s nestream: ${run.achievedRate} writes/s answered, p99 ${run.latency.p99} ms; relay p99 ${nRelay.p99} ms; consumer p99 ${nConsumer.p99} ms; webhook p99 ${nWebhook?.p99 ?? '-'} ms${missing}`);

      raw.send({ run: { tag: `r${rate}`, rate, warmupMs, measureMs } });
      const { results } = await raw.next<{ results: [string, number, number | null][] }>('results', warmupMs + measureMs + 60_000);
      const created = new Map<unknown, number>(results.map(([id, at]) => [id, at]));
      const consumed = new Map<unknown, number>(results.filter((r) => r[2] !== null).map(([id, , at]) => [id, at as number]));
      const webhookDeadline = nowMs() + 5_000;
      while (ctx.receiver.firstArrivals('raw-latency').size < created.size && nowMs() < webhookDeadline) await sleep(50);
      const rawGaveUpAt = nowMs();
      const bConsumer = delays(created, consumed, rawGaveUpAt);
      const bWebhook = delays(created, ctx.receiver.firstArrivals('raw-latency'), rawGaveUpAt);
      ctx.log(`  ${rate}/s raw:      consumer p99 ${bConsumer.p99} ms; webhook p99 ${bWebhook.p99} ms`);

      if (sub) {
        const { checked, valid } = ctx.receiver.verifySamples(new Map([['latency', sub.secret], ['raw-latency', rawSecret]]));
        const before = result.webhooks.signatures ?? { checked: 0, valid: 0 };
        result.webhooks.signatures = { checked: before.checked + checked, valid: before.valid + valid };
      }
      result.levels[`r${rate}`] = {
        offeredRate: rate,
        nestream: { achievedRate: run.achievedRate, relay: nRelay, consumer: nConsumer, webhook: nWebhook, writeLatency: run.latency, errors: run.errors, backlog },
        baseline: { achievedRate: Math.round((created.size * 1000) / measureMs), consumer: bConsumer, webhook: sub ? bWebhook : null },
        ratio: { consumer: ratios(nConsumer, bConsumer), webhook: nWebhook ? ratios(nWebhook, bWebhook) : null },
      };
    }
  } finally {
    await tap.stop();
    await raw.stop();
    if (sub) await unsubscribe(requireApp(ctx).url, ctx.adminToken, sub.id);
  }
  return result;
}
