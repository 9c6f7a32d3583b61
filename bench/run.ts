/**
 * `npm run bench`: Nestream against raw baselines on this machine's Kafka and PostgreSQL. Progress
 * goes to stderr; the results table to stdout; JSON, an SVG chart and a Markdown table to bench-results/.
 * What each phase measures and how is in docs/benchmarks.md.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type as osType } from 'node:os';
import { join, relative } from 'node:path';
import { requiredTopics } from '../src/messaging/topics';
import type { BenchContext } from './context';
import { drain, skipBacklog } from './context';
import { pool, resetDatabase, serverVersion } from './lib/database';
import { Callgrind } from './lib/callgrind';
import { BenchKafka, DedicatedBroker, kafkaVersion, WARMUP_TOPIC } from './lib/kafka';
import { AppDeployment, freePort, prepareCompiledApp, productionNodeFlags, RssSampler, rssKb } from './lib/processes';
import { WebhookReceiver } from './lib/receiver';
import { round } from './lib/stats';
import { nowMs } from './lib/time';
import { EventLatencyResult, measureEventLatency, ROUNDTRIP_TOPIC } from './phases/event-latency';
import { IngestResult, measureIngest, prewriteIngest } from './phases/ingest';
import { callgrindOf, InstructionsResult, measureInstructions } from './phases/instructions';
import { FanoutResult, measureFanout } from './phases/webhook-fanout';
import { measureWritePath, WritePathResult } from './phases/write-path';
import { latencyChart } from './report/chart';
import { profilesSince, summarizeProfile } from './report/profile';
import { BenchResult, checkTargets, Machine, memoryOf } from './report/result';
import { markdownReport, textReport } from './report/table';
import { BenchSettings, parseArgs, ROOT, USAGE } from './settings';

const startedAtMs = Date.now();
/** Progress on stderr, each line with the seconds since the start. */
const log = (line: string) => {
  const at = `[${((Date.now() - startedAtMs) / 1000).toFixed(1).padStart(6)}s]`;
  process.stderr.write(line.startsWith('\n') ? `\n${at} ${line.slice(1)}\n` : `${at} ${line}\n`);
};

/** App settings the benchmark fixes; BENCH_APP_<NAME>=value adds or overrides one (to try a tuning). */
function appEnvironment(settings: BenchSettings, brokers: string[], port: number, groupId: string, adminToken: string): Record<string, string> {
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    THROTTLE_LIMIT: '0',
    DATABASE_URL: settings.databaseUrl,
    DATABASE_POOL_SIZE: String(settings.poolSize),
    DB_MIGRATE_ON_START: 'false',
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_GROUP_ID: groupId,
    KAFKA_CLIENT_ID: 'nestream-bench',
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
    ADMIN_TOKEN: adminToken,
    // The receiver listens on 127.0.0.1.
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
  };
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('BENCH_APP_') && value !== undefined) env[name.slice('BENCH_APP_'.length)] = value;
  }
  return env;
}

async function createUsers(ctx: BenchContext): Promise<void> {
  const app = ctx.app!;
  for (let i = 0; i < ctx.settings.users; i += 1) {
    const res = await fetch(`${app.url}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: `Bench User ${i}`, email: `bench-${ctx.runId}-${i}@example.com` }),
    });
    if (res.status !== 201) throw new Error(`POST /users answered ${res.status}: ${await res.text()}`);
    ctx.userIds.push(((await res.json()) as { id: number }).id);
  }
  const { rows } = await ctx.rawDb.query(
    `INSERT INTO users (name, email) SELECT 'Bench User ' || i, 'bench-' || $2 || '-' || i || '@example.com' FROM generate_series(0, $1 - 1) i RETURNING id`,
    [ctx.settings.users, ctx.runId],
  );
  ctx.rawUserIds.push(...rows.map((r: { id: string }) => Number(r.id)));
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  const settings = parseArgs(argv);
  let ctx: BenchContext | undefined;
  // Ctrl-C or SIGTERM: stop the app cleanly; the exit hook kills the broker and any baseline still running.
  const onSignal = () => {
    log('interrupted: stopping the app and the broker');
    void Promise.allSettled([ctx?.app?.stop()]).then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const started = new Date();
  const t0 = nowMs();
  const loadStart = round(loadavg()[0], 2);
  mkdirSync(settings.outDir, { recursive: true });
  const countInstructions = settings.phases.includes('instructions');
  const perRun = countInstructions
    ? `${settings.instructionsWarmupRequests} unmeasured + ${settings.instructionsRequests} counted orders per side`
    : `${settings.warmupMs} ms warm-up + ${settings.measureMs} ms per run`;
  log(`nestream bench (${settings.mode}): phases ${settings.phases.join(', ')}; ${perRun}`);

  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const appDir = prepareCompiledApp(settings.outDir, settings.build, runId, log);
  const receiver = await WebhookReceiver.start();
  const broker = settings.kafka === 'dedicated' ? await DedicatedBroker.start(settings.outDir, runId, log) : undefined;
  const brokers = broker?.brokers ?? settings.kafka.split(',').map((s) => s.trim());
  const kafka = new BenchKafka(brokers);
  const adminToken = `bench-admin-${randomBytes(12).toString('hex')}`;
  const groupId = `nestream-bench-${runId}`;
  let appDb: ReturnType<typeof pool> | undefined;
  let rawDb: ReturnType<typeof pool> | undefined;
  const cpuProfDir = settings.cpuProf ? join(settings.outDir, 'profiles') : undefined;
  if (countInstructions) Callgrind.check();
  const wrapper = countInstructions ? callgrindOf(settings.outDir, runId, 'app').wrapper() : undefined;

  let brokerWarmup: BenchResult['brokerWarmup'];
  let ingest: IngestResult | undefined;
  let writePath: WritePathResult | undefined;
  let eventLatency: EventLatencyResult | undefined;
  let webhookFanout: FanoutResult | undefined;
  let instructions: InstructionsResult | undefined;
  let latencyPeakMb: number | null = null;
  let overallPeakMb = 0;
  let postgres = 'unknown';
  try {
    // On a shared broker (--kafka host:port) the warm-up's records go within the hour.
    await kafka.ensureTopics([{ topic: ROUNDTRIP_TOPIC }, { topic: WARMUP_TOPIC, config: { 'retention.ms': '3600000' } }]);
    if (settings.brokerWarmupMs > 0) {
      brokerWarmup = { durationMs: settings.brokerWarmupMs, ...(await kafka.warmUp(WARMUP_TOPIC, settings.brokerWarmupMs)) };
      log(`broker warmed up: ${brokerWarmup.produced} records produced, ${brokerWarmup.consumed} consumed in ${brokerWarmup.durationMs} ms`);
    }
    log('resetting the benchmark databases');
    await resetDatabase(settings.databaseUrl, appDir);
    await resetDatabase(settings.rawDatabaseUrl, appDir);
    appDb = pool(settings.databaseUrl);
    rawDb = pool(settings.rawDatabaseUrl);
    postgres = await serverVersion(appDb);
    log('databases ready');
    const port = await freePort();
    ctx = {
      settings,
      log,
      appDir,
      appEnv: appEnvironment(settings, brokers, port, groupId, adminToken),
      appDb,
      rawDb,
      kafka,
      groupId,
      runId,
      // The topics the app consumes (dead-letter topics are written, not read).
      appTopics: requiredTopics().map((s) => s.topic).filter((t) => !t.endsWith('.dlq')),
      receiver,
      adminToken,
      userIds: [],
      rawUserIds: [],
      startApp: async (): Promise<AppDeployment> => (c.app = await AppDeployment.start(appDir, c.appEnv, { cpuProfDir, split: settings.split, wrapper })),
    };
    const c: BenchContext = ctx;

    if (settings.phases.includes('ingest')) {
      log('\n[ingest]');
      const marks = await prewriteIngest(c);
      ingest = await measureIngest(c, marks, c.startApp);
      if (ingest.nestream.complete) {
        await drain(c);
        // A process keeps its peak heap: the next phases' memory is measured from a fresh one.
        log('  restarting the app, so ingest\'s memory does not count in the next phases');
      } else {
        // What the deadline left unconsumed must not run under the next phases' measurements.
        log('  skipping the rest of the ingest backlog: restarting the app at the end of every topic');
      }
      await skipBacklog(c);
    } else {
      await kafka.positionAppGroups(groupId, c.appTopics);
      await c.startApp();
    }
    await createUsers(c);
    log(`${settings.users} users created`);

    if (settings.phases.includes('write')) {
      log('\n[write path]');
      writePath = await measureWritePath(c);
    }
    if (settings.phases.includes('latency')) {
      log('\n[event latency]');
      const sampler = new RssSampler(() => c.app?.pids).start();
      eventLatency = await measureEventLatency(c);
      latencyPeakMb = sampler.stop();
    }
    if (settings.phases.includes('fanout')) {
      log('\n[webhook fan-out]');
      webhookFanout = await measureFanout(c);
    }
    if (countInstructions) {
      log('\n[instructions]');
      instructions = await measureInstructions(c);
    }
  } finally {
    if (ctx?.app) {
      if (!countInstructions) overallPeakMb = round(ctx.app.pids.reduce((kb, pid) => kb + rssKb(pid, 'VmHWM'), 0) / 1024, 1);
      const code = await ctx.app.stop();
      if (code !== 0) log(`the app exited with ${code}: ${ctx.app.output.slice(-2000)}`);
    }
    await receiver.stop();
    await kafka.close();
    await appDb?.end();
    await rawDb?.end();
    await broker?.stop();
  }

  const machine: Machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: round(totalmem() / 1024 ** 3, 1),
    os: `${osType()} ${release()}`,
    node: process.versions.node,
    kafka: kafkaVersion(),
    kafkaBroker: broker ? 'dedicated single KRaft node started by the harness' : `existing broker ${brokers.join(',')}`,
    postgres,
    loadAverage: { start: loadStart, end: round(loadavg()[0], 2) },
  };
  const partial = {
    version: 1 as const,
    mode: settings.mode,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    durationSeconds: round((nowMs() - t0) / 1000, 0),
    machine,
    settings: {
      warmupMs: settings.warmupMs,
      brokerWarmupMs: settings.brokerWarmupMs,
      measureMs: settings.measureMs,
      concurrencies: settings.concurrencies,
      rates: settings.rates,
      ingestEvents: settings.ingestEvents,
      fanoutSubscriptions: settings.fanoutSubscriptions,
      fanoutEvents: settings.fanoutEvents,
      users: settings.users,
      poolSize: settings.poolSize,
      app: `${settings.split ? 'two processes: APP_ROLE=api (HTTP) + APP_ROLE=worker (consumers); memory is their sum' : 'one process (APP_ROLE=all)'}, node ${productionNodeFlags().join(' ')} (npm run start:prod)`,
      phases: settings.phases,
      ...(countInstructions ? { instructionsWarmupRequests: settings.instructionsWarmupRequests, instructionsRequests: settings.instructionsRequests } : {}),
      appOverrides: Object.keys(process.env).filter((k) => k.startsWith('BENCH_APP_')),
    },
    brokerWarmup,
    ingest,
    writePath,
    eventLatency,
    webhookFanout,
    instructions,
    memory: memoryOf({ writePath, eventLatency, ingest, webhookFanout }, overallPeakMb, latencyPeakMb),
  };
  const result: BenchResult = { ...partial, targets: checkTargets(partial) };

  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const outputs: [kind: string, name: string, content: string][] = [
    ['json', `bench-${settings.mode}-${stamp}.json`, JSON.stringify(result, null, 2) + '\n'],
    ['svg', `latency-${settings.mode}-${stamp}.svg`, latencyChart(result)],
    ['md', `bench-${settings.mode}-${stamp}.md`, markdownReport(result)],
  ];
  for (const [kind, name, content] of outputs) {
    writeFileSync(join(settings.outDir, name), content);
    writeFileSync(join(settings.outDir, `latest-${settings.mode}.${kind}`), content);
    log(`${kind}: ${relative(ROOT, join(settings.outDir, name))}`);
  }
  if (cpuProfDir) {
    // One profile per app process (the app is restarted after ingest, and when a phase leaves a backlog behind).
    const summary = profilesSince(cpuProfDir, t0).map((file) => summarizeProfile(file)).join('\n');
    if (summary) {
      writeFileSync(join(cpuProfDir, 'summary.txt'), summary);
      log(`\n${summary}`);
    }
  }
  process.stdout.write(`${textReport(result)}\n`, () => process.exit(0));
}

main().catch((err: unknown) => {
  log(`bench failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
