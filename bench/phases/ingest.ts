import { Topics } from '../../src/events';
import type { BenchContext } from '../context';
import { CpuMeter, CpuUse, cpuTotal } from '../lib/cpu';
import { storedRange } from '../lib/database';
import { AppDeployment, BaselineProcess, RssSampler } from '../lib/processes';
import { ratio, round } from '../lib/stats';
import { nowMs, sleep } from '../lib/time';
import { appSetting } from '../settings';
import type { Pool } from 'pg';

/** Outside order ids start here: far above anything the write phases create. */
export const INGEST_FIRST_ID = 500_000_000;

export interface IngestRun {
  stored: number;
  complete: boolean;
  /** First to last stored row (the rows' created_at): the consumer's own speed, without start-up. */
  seconds: number;
  eventsPerSecond: number;
  /** From starting the process to the last row stored: start-up and the group join included. */
  wallSeconds: number;
  /**
   * From starting the process until every consumer is done with the events: the app's other consumer
   * groups (analytics, live feed, webhooks) may still be working when the last order is stored.
   */
  settledWallSeconds: number;
  peakRssMb: number;
  /** CPU per 1,000 stored events, by process, from the consumer's start (app: once ready) until every consumer is done. */
  cpu: CpuUse;
}

export interface IngestResult {
  events: number;
  nestream: IngestRun;
  baseline: IngestRun;
  ratio: { eventsPerSecond: number; cpuMsPerThousand: number };
}

export interface IngestMarks {
  /** Where the outside records begin in each partition of order_placed. */
  starts: { partition: number; offset: string }[];
}

/**
 * Before the app starts: its consumer groups are positioned at the end of every topic, then an outside
 * producer writes the records (plain JSON, no key, no headers, as the origin document's producer does).
 * Starting the app afterwards makes them a backlog it has to work through.
 */
export async function prewriteIngest(ctx: BenchContext): Promise<IngestMarks> {
  const { ingestEvents } = ctx.settings;
  await ctx.kafka.positionAppGroups(ctx.groupId, ctx.appTopics);
  const starts = await ctx.kafka.ends(Topics.OrderPlaced);
  const records = Array.from({ length: ingestEvents }, (_, i) => ({ id: INGEST_FIRST_ID + i, product: `bench-ingest-${i % 50}`, amount: 10 + (i % 90) }));
  const t0 = nowMs();
  await ctx.kafka.writePlainJson(Topics.OrderPlaced, records);
  ctx.log(`  wrote ${ingestEvents} plain-JSON order_placed records in ${Math.round(nowMs() - t0)} ms`);
  return { starts };
}

/**
 * Polls the database until every outside order is stored, then until `settled` (every consumer done),
 * or the deadline passes.
 */
async function waitStored(db: Pool, count: number, startedAt: number, deadlineMs: number, sampler: RssSampler, meter: CpuMeter, settled = async () => true): Promise<IngestRun> {
  let range = await storedRange(db, INGEST_FIRST_ID, count);
  while (range.stored < count && nowMs() - startedAt < deadlineMs) {
    await sleep(200);
    range = await storedRange(db, INGEST_FIRST_ID, count);
  }
  while (!(await settled()) && nowMs() - startedAt < deadlineMs) await sleep(200);
  const settledWallSeconds = round((nowMs() - startedAt) / 1000, 2);
  const peakRssMb = sampler.stop();
  const cpu = meter.stop(range.stored / 1000);
  const complete = range.stored === count;
  const seconds = Math.max(0.001, (range.lastMs - range.firstMs) / 1000);
  return {
    stored: range.stored,
    complete,
    seconds: round(seconds, 2),
    eventsPerSecond: range.stored > 1 ? round((range.stored - 1) / seconds, 0) : 0,
    wallSeconds: round((Math.min(nowMs(), range.lastMs) - startedAt) / 1000, 2),
    settledWallSeconds,
    peakRssMb,
    cpu,
  };
}

/** Starts the app on the backlog and times it; then the raw eachBatch consumer on the same records. */
export async function measureIngest(ctx: BenchContext, marks: IngestMarks, startApp: () => Promise<AppDeployment>): Promise<IngestResult> {
  const { ingestEvents, ingestDeadlineMs } = ctx.settings;

  const startedAt = nowMs();
  let sampler: RssSampler | undefined;
  const app = await startApp();
  sampler = new RssSampler(app.pids).start();
  ctx.log(`  app ready after ${Math.round(nowMs() - startedAt)} ms; ingesting`);
  const allGroupsDone = async () => (await ctx.kafka.appLag(ctx.groupId)) === 0;
  const nestream = await waitStored(ctx.appDb, ingestEvents, startedAt, ingestDeadlineMs, sampler, new CpuMeter({ app: () => app.pids }).start(), allGroupsDone);
  ctx.log(`  nestream: ${nestream.stored}/${ingestEvents} stored, ${nestream.eventsPerSecond} events/s; every consumer done ${nestream.settledWallSeconds} s after the start`);

  const rawStartedAt = nowMs();
  const rawGroup = `nestream-bench-raw-ingest-${ctx.runId}`;
  await ctx.kafka.positionGroup(rawGroup, [Topics.OrderPlaced], new Map([[Topics.OrderPlaced, marks.starts]]));
  const raw = await BaselineProcess.start('raw-ingest-consumer.mjs', {
    brokers: ctx.kafka.brokers,
    groupId: rawGroup,
    topic: Topics.OrderPlaced,
    databaseUrl: ctx.settings.rawDatabaseUrl,
    poolSize: ctx.settings.poolSize,
    // As many partitions at once as each of the app's consumers.
    concurrency: appSetting('KAFKA_CONSUMER_CONCURRENCY'),
  });
  sampler = new RssSampler(raw.pid).start();
  let baseline: IngestRun;
  try {
    baseline = await waitStored(ctx.rawDb, ingestEvents, rawStartedAt, ingestDeadlineMs, sampler, new CpuMeter({ baseline: raw.pid }).start());
  } finally {
    await raw.stop();
  }
  ctx.log(`  raw eachBatch consumer: ${baseline.stored}/${ingestEvents} stored, ${baseline.eventsPerSecond} events/s`);
  return {
    events: ingestEvents,
    nestream,
    baseline,
    ratio: {
      eventsPerSecond: ratio(nestream.eventsPerSecond, baseline.eventsPerSecond),
      cpuMsPerThousand: ratio(cpuTotal(nestream.cpu), cpuTotal(baseline.cpu)),
    },
  };
}
