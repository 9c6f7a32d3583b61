import type { Pool } from 'pg';
import { outboxBacklog } from './lib/database';
import type { BenchKafka } from './lib/kafka';
import type { AppDeployment } from './lib/processes';
import type { WebhookReceiver } from './lib/receiver';
import { nowMs, sleep } from './lib/time';
import type { BenchSettings } from './settings';

/** What every phase works with; built by run.ts. */
export interface BenchContext {
  settings: BenchSettings;
  log: (line: string) => void;
  appDir: string;
  /** Environment of the app process. */
  appEnv: Record<string, string>;
  app?: AppDeployment;
  /** Starts the app (again) with appEnv and sets `app`. */
  startApp: () => Promise<AppDeployment>;
  appDb: Pool;
  rawDb: Pool;
  kafka: BenchKafka;
  /** The prefix of the app's consumer groups (KAFKA_GROUP_ID), unique to this run. */
  groupId: string;
  runId: string;
  appTopics: string[];
  receiver: WebhookReceiver;
  adminToken: string;
  /** Users the orders are placed for, in the app's database and in the baselines' database. */
  userIds: number[];
  rawUserIds: number[];
}

export function requireApp(ctx: BenchContext): AppDeployment {
  if (!ctx.app) throw new Error('the app is not running');
  return ctx.app;
}

export interface Backlog {
  /** Outbox rows not yet published and records the app's group has not consumed, when the run ended. */
  outboxAtEnd: number;
  lagAtEnd: number;
  /** How long the relay and consumers took to catch up afterwards (NaN: not within the drain timeout). */
  drainMs: number;
  /** Not caught up in time: the app was restarted at the end of every topic, skipping the rest. */
  skipped: boolean;
}

/**
 * Waits until the relay has published everything and the app's consumers have read every topic, so the
 * next measurement does not pay for this one's backlog.
 */
export async function drain(ctx: BenchContext): Promise<Backlog> {
  const start = nowMs();
  const outboxAtEnd = await outboxBacklog(ctx.appDb);
  const lagAtEnd = await ctx.kafka.appLag(ctx.groupId);
  let outbox = outboxAtEnd;
  let lag = lagAtEnd;
  while (outbox > 0 || lag > 0) {
    if (nowMs() - start > ctx.settings.drainTimeoutMs) {
      ctx.log(`  still behind after ${ctx.settings.drainTimeoutMs} ms (outbox ${outbox}, lag ${lag}): skipping the rest`);
      await skipBacklog(ctx);
      return { outboxAtEnd, lagAtEnd, drainMs: Number.NaN, skipped: true };
    }
    await sleep(200);
    outbox = await outboxBacklog(ctx.appDb);
    lag = await ctx.kafka.appLag(ctx.groupId);
  }
  return { outboxAtEnd, lagAtEnd, drainMs: Math.round(nowMs() - start), skipped: false };
}

/**
 * Restarts the app with its groups at the end of every topic, so records a run left unconsumed do not
 * load the next measurement (a group's offsets can only be moved while it has no members).
 */
export async function skipBacklog(ctx: BenchContext): Promise<void> {
  await requireApp(ctx).stop();
  ctx.app = undefined;
  await ctx.kafka.positionAppGroups(ctx.groupId, ctx.appTopics);
  await ctx.startApp();
}
