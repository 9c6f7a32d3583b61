import { randomBytes } from 'node:crypto';
import { Topics } from '../../src/events';
import { appSetting } from '../settings';
import { BenchContext, drain, requireApp } from '../context';
import { closedLoopOrders } from '../lib/load';
import { BaselineProcess, RssSampler } from '../lib/processes';
import { ratio, round } from '../lib/stats';
import { nowMs, sleep } from '../lib/time';
import { subscribe, Subscription, unsubscribe, WebhooksUnavailable } from '../lib/webhooks-api';

/** Outside order ids of the run from the topic: above the ingest phase's (each run has a new database). */
const FROM_TOPIC_FIRST_ID = 700_000_000;

export interface FanoutRun {
  deliveries: number;
  expected: number;
  complete: boolean;
  /** First to last delivery received. */
  seconds: number;
  deliveriesPerSecond: number;
  peakRssMb: number;
}

export interface FanoutResult {
  status: 'measured' | 'skipped';
  reason?: string;
  subscriptions: number;
  events: number;
  nestream?: FanoutRun & {
    writeSeconds: number;
    /** Deliveries the fan-out consumer created per second (webhook_deliveries.created_at): what the dispatcher was fed. */
    fannedOutPerSecond: number;
    /** Deliveries per second while the writes ran (the dispatcher shares the machine with them), and after. */
    whileWritingPerSecond: number;
    afterWritesPerSecond: number;
    signatures: { checked: number; valid: number };
  };
  /**
   * The same events written to order_placed by an outside producer, all at once: consumed, stored and
   * fanned out by the app, then dispatched, without HTTP writes sharing the machine.
   */
  fromTopic?: FanoutRun;
  /** A backlog of subscriptions × events deliveries, all due at once, drained by the dispatcher alone. */
  backlog?: FanoutRun;
  baseline?: FanoutRun;
  /** Requests the raw baseline keeps in flight. */
  baselineConcurrency?: number;
  ratio?: { deliveriesPerSecond: number; fromTopicPerSecond?: number; backlogPerSecond?: number };
}

/**
 * Subscriptions × events: the subscriptions are created first, then the events are written as fast as
 * 64 connections can POST /orders, and the app fans each out and dispatches it; the receiver counts
 * signed deliveries of those orders until all have arrived or `fanoutDeadlineMs` has passed since the last write.
 */
export async function measureFanout(ctx: BenchContext): Promise<FanoutResult> {
  // Whatever an earlier phase left unconsumed would be handled before these events.
  await drain(ctx);
  const app = requireApp(ctx);
  const { fanoutSubscriptions: subscriptions, fanoutEvents: events, fanoutDeadlineMs } = ctx.settings;
  const base: FanoutResult = { status: 'measured', subscriptions, events };
  const subs: Subscription[] = [];
  try {
    for (let i = 0; i < subscriptions; i += 1) {
      subs.push(await subscribe(app.url, ctx.adminToken, ctx.receiver.url(`fanout-${i}`), `fanout-${i}`, ['order_placed']));
    }
  } catch (err) {
    for (const s of subs) await unsubscribe(app.url, ctx.adminToken, s.id);
    if (!(err instanceof WebhooksUnavailable)) throw err;
    ctx.log(`  skipped: ${err.message}`);
    return { ...base, status: 'skipped', reason: err.message };
  }

  let nestream: NonNullable<FanoutResult['nestream']>;
  let fromTopic: FanoutRun;
  let backlog: FanoutRun;
  try {
    ctx.receiver.clear();
    const sampler = new RssSampler(app.pids).start();
    const start = nowMs();
    const ids = new Set<unknown>(await closedLoopOrders(app.url, 64, events, ctx.userIds, 'bench-fanout'));
    const writesEnd = nowMs();
    const writeSeconds = round((writesEnd - start) / 1000, 2);
    const expected = ids.size * subscriptions;
    // From the end of the writes: on a slow machine the writes alone can take most of a fixed bound.
    const arrivals = await arrivalsOf(ctx, (id) => ids.has(id), expected);
    const run = rate(arrivals, expected);
    const lastArrival = arrivals.reduce((a, b) => Math.max(a, b), writesEnd);
    const whileWriting = arrivals.filter((at) => at <= writesEnd).length;
    const whileWritingPerSecond = round(whileWriting / ((writesEnd - start) / 1000), 0);
    const afterWritesPerSecond = lastArrival > writesEnd ? round((arrivals.length - whileWriting) / ((lastArrival - writesEnd) / 1000), 0) : 0;
    const { rows } = await ctx.appDb.query(
      `SELECT count(*)::int AS n, extract(epoch FROM max(created_at) - min(created_at))::float8 AS seconds
         FROM webhook_deliveries WHERE subscription_id = ANY($1::bigint[])`,
      [subs.map((s) => s.id)],
    );
    const fannedOutPerSecond = rows[0].n > 1 && rows[0].seconds > 0 ? round((rows[0].n - 1) / rows[0].seconds, 0) : 0;
    const signatures = ctx.receiver.verifySamples(new Map(subs.map((s) => [s.channel, s.secret])));
    nestream = { ...run, peakRssMb: sampler.stop(), writeSeconds, fannedOutPerSecond, whileWritingPerSecond, afterWritesPerSecond, signatures };
    ctx.log(
      `  nestream: ${run.deliveries}/${expected} deliveries, ${run.deliveriesPerSecond}/s (${whileWritingPerSecond}/s while writing, ${afterWritesPerSecond}/s after); ` +
        `fan-out created ${rows[0].n} at ${fannedOutPerSecond}/s (writes took ${writeSeconds} s)`,
    );
    fromTopic = await fanOutFromTopic(ctx, subscriptions, events);
    backlog = await drainBacklog(ctx, subs, events);
  } finally {
    // Deleting a subscription drops its undelivered backlog, so nothing spills into later runs.
    for (const s of subs) await unsubscribe(app.url, ctx.adminToken, s.id);
  }

  ctx.receiver.clear();
  const channels = Array.from({ length: subscriptions }, (_, i) => ({ url: ctx.receiver.url(`raw-fanout-${i}`), secret: `whsec_${randomBytes(32).toString('base64')}` }));
  // As many requests at once as the app's dispatcher.
  const concurrency = appSetting('WEBHOOK_DISPATCH_CONCURRENCY');
  const raw = await BaselineProcess.start('raw-fanout.mjs', { concurrency });
  let baseline: FanoutRun;
  try {
    const sampler = new RssSampler(raw.pid).start();
    raw.send({ run: { channels, events, deadlineMs: fanoutDeadlineMs } });
    await raw.next('results', fanoutDeadlineMs + 30_000);
    const received = ctx.receiver.receipts.filter((r) => r.channel.startsWith('raw-fanout-'));
    baseline = { ...rate(received.map((r) => r.at), subscriptions * events), peakRssMb: sampler.stop() };
  } finally {
    await raw.stop();
  }
  ctx.log(`  raw:      ${baseline.deliveries}/${baseline.expected} deliveries, ${baseline.deliveriesPerSecond}/s`);
  return {
    ...base,
    nestream,
    fromTopic,
    backlog,
    baseline,
    baselineConcurrency: concurrency,
    ratio: {
      deliveriesPerSecond: ratio(nestream.deliveriesPerSecond, baseline.deliveriesPerSecond),
      fromTopicPerSecond: ratio(fromTopic.deliveriesPerSecond, baseline.deliveriesPerSecond),
      backlogPerSecond: ratio(backlog.deliveriesPerSecond, baseline.deliveriesPerSecond),
    },
  };
}

/**
 * The events as an outside producer writes them (plain JSON, the origin document's way), as fast as
 * the broker takes them: every consumer of order_placed stores, enriches and counts them while the
 * fan-out consumer creates their deliveries and the dispatcher sends them; no HTTP write shares the
 * machine.
 */
async function fanOutFromTopic(ctx: BenchContext, subscriptions: number, events: number): Promise<FanoutRun> {
  await drain(ctx);
  ctx.receiver.clear();
  const sampler = new RssSampler(requireApp(ctx).pids).start();
  const orders = Array.from({ length: events }, (_, i) => ({ id: FROM_TOPIC_FIRST_ID + i, product: `bench-fanout-${i % 50}`, amount: 10 + (i % 90) }));
  await ctx.kafka.writePlainJson(Topics.OrderPlaced, orders);
  const expected = subscriptions * events;
  const arrivals = await arrivalsOf(ctx, (id) => Number(id) >= FROM_TOPIC_FIRST_ID && Number(id) < FROM_TOPIC_FIRST_ID + events, expected);
  const run = { ...rate(arrivals, expected), peakRssMb: sampler.stop() };
  ctx.log(`  nestream: ${events} events from the topic fanned out: ${run.deliveries}/${expected} deliveries, ${run.deliveriesPerSecond}/s`);
  return run;
}

/**
 * The dispatcher draining a backlog as a receiver's outage leaves it: `events` deliveries per
 * subscription, all due at once, with the table's statistics up to date (as autovacuum would have them
 * after such an outage; the planner then sees how many are pending). They are written straight into
 * the app's database, in one transaction with the ANALYZE, so the dispatcher starts on the whole lot.
 */
async function drainBacklog(ctx: BenchContext, subs: Subscription[], events: number): Promise<FanoutRun> {
  ctx.receiver.clear();
  const tag = `bench-backlog-${Date.now()}`;
  const client = await ctx.appDb.connect();
  const sampler = new RssSampler(requireApp(ctx).pids).start();
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO webhook_deliveries (subscription_id, message_id, event_id, event_type, entity_type, entity_id, entity_version, body, next_attempt_at)
       SELECT s.id, 'msg_' || replace(gen_random_uuid()::text, '-', ''), $2 || '-' || e, 'order_placed', 'order', $2 || '-' || e, 1,
              json_build_object('type', 'order_placed', 'timestamp', now(), 'data', json_build_object('id', $2 || '-' || e))::text, now()
         FROM unnest($1::bigint[]) AS s(id), generate_series(1, $3) AS e`,
      [subs.map((sub) => sub.id), tag, events],
    );
    await client.query('ANALYZE webhook_deliveries');
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
  const expected = subs.length * events;
  const arrivals = await arrivalsOf(ctx, (id) => String(id).startsWith(tag), expected);
  const run = { ...rate(arrivals, expected), peakRssMb: sampler.stop() };
  ctx.log(`  nestream: a backlog of ${expected} drained: ${run.deliveries}/${expected} deliveries, ${run.deliveriesPerSecond}/s`);
  return run;
}

/** Arrival times of the fan-out subscriptions' deliveries of `ids`, once `expected` arrived or `fanoutDeadlineMs` from now passed. */
async function arrivalsOf(ctx: BenchContext, ids: (id: unknown) => boolean, expected: number): Promise<number[]> {
  const mine = () => ctx.receiver.receipts.filter((r) => r.channel.startsWith('fanout-') && ids(r.id));
  let received = mine();
  const deadline = nowMs() + ctx.settings.fanoutDeadlineMs;
  while (received.length < expected && nowMs() < deadline) {
    await sleep(200);
    received = mine();
  }
  return received.map((r) => r.at);
}

function rate(arrivals: number[], expected: number): Omit<FanoutRun, 'peakRssMb'> {
  const first = arrivals.reduce((a, b) => Math.min(a, b), Infinity);
  const last = arrivals.reduce((a, b) => Math.max(a, b), -Infinity);
  const seconds = arrivals.length > 1 ? (last - first) / 1000 : Number.NaN;
  return {
    deliveries: arrivals.length,
    expected,
    complete: arrivals.length >= expected,
    seconds: round(seconds, 2),
    deliveriesPerSecond: arrivals.length > 1 ? round((arrivals.length - 1) / seconds, 0) : 0,
  };
}
