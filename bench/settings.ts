import { join, relative, resolve } from 'node:path';
import { EnvironmentVariables } from '../src/config/env';
import { listedGroups } from '../src/messaging/kafka/consumer-groups';

export const ROOT = join(__dirname, '..');
export const RESULTS_DIR = join(ROOT, 'bench-results');

export type Phase = 'ingest' | 'write' | 'latency' | 'fanout' | 'instructions';
/** What a run measures unless told otherwise; `instructions` runs only when asked for, and alone (the app runs under valgrind). */
export const PHASES: readonly Phase[] = ['ingest', 'write', 'latency', 'fanout'];
const KNOWN_PHASES: readonly Phase[] = [...PHASES, 'instructions'];

/** Everything a run depends on; `--smoke` shrinks durations and counts, never the shape of the result. */
export interface BenchSettings {
  mode: 'full' | 'smoke';
  /** Unrecorded load before each measured phase (JIT, pools, connections). */
  warmupMs: number;
  /**
   * Produce-and-consume traffic on a topic of the harness's own before the first phase, so the broker's
   * JIT has compiled its produce and fetch paths before either side is measured (see BenchKafka.warmUp).
   */
  brokerWarmupMs: number;
  /** Length of each measured phase. */
  measureMs: number;
  /** Smoke runs: each write-path run sends this many requests (at least 2 per connection) instead of running measureMs. */
  requestsPerRun?: number;
  /** POST /orders concurrencies (autocannon connections). */
  concurrencies: number[];
  /** Offered write rates (requests per second) of the event-latency phase. */
  rates: number[];
  /** Plain-JSON order_placed records pre-written for the ingest phase. */
  ingestEvents: number;
  /** Webhook fan-out: subscriptions × events. */
  fanoutSubscriptions: number;
  fanoutEvents: number;
  /** A phase that has not finished by then reports what it did in the time (marked incomplete). */
  ingestDeadlineMs: number;
  /** Counted from the end of the fan-out phase's writes. */
  fanoutDeadlineMs: number;
  /** Longest wait for the relay and consumers to catch up between measured runs. */
  drainTimeoutMs: number;
  /** Users the orders are spread over (the order insert share-locks its user row). */
  users: number;
  /** The instructions phase: unmeasured requests first (JIT, pools), then the counted ones, at 16 connections. */
  instructionsWarmupRequests: number;
  instructionsRequests: number;
  /** `dedicated`: the harness starts its own broker from infra/kafka/lib; else a broker list. */
  kafka: string;
  build: boolean;
  cpuProf: boolean;
  /** The app as two processes (APP_ROLE=api for HTTP, APP_ROLE=worker for the consumers) instead of one. */
  split: boolean;
  phases: Phase[];
  databaseUrl: string;
  rawDatabaseUrl: string;
  /** DATABASE_POOL_SIZE of the app, and the pool of the raw baselines. */
  poolSize: number;
  outDir: string;
}

/** The targets (2 cores, Kafka, Postgres and the app on one machine). */
export const TARGETS = {
  writeThroughputRatioC64: 0.7,
  writeP99RatioC64: 1.5,
  consumerP99MsAt1000: 100,
  webhookP99MsAt1000: 250,
  ingestEventsPerSecond: 20_000,
  ingestRatio: 0.5,
  fanoutDeliveriesPerSecond: 3_000,
  writeRssMb: 300,
} as const;

const FULL: Omit<BenchSettings, 'mode' | 'kafka' | 'build' | 'cpuProf' | 'split' | 'phases' | 'databaseUrl' | 'rawDatabaseUrl' | 'poolSize' | 'outDir'> = {
  warmupMs: 3_000,
  brokerWarmupMs: 20_000,
  measureMs: 10_000,
  concurrencies: [1, 16, 64],
  rates: [500, 1000],
  ingestEvents: 100_000,
  fanoutSubscriptions: 10,
  fanoutEvents: 10_000,
  // Bounds that keep a run near six minutes when the app cannot keep up (each says so in the results).
  ingestDeadlineMs: 60_000,
  fanoutDeadlineMs: 90_000,
  drainTimeoutMs: 20_000,
  users: 100,
  // Under valgrind the app answers about ten orders a second: about five minutes for both sides.
  instructionsWarmupRequests: 1_500,
  instructionsRequests: 1_000,
};

const SMOKE: typeof FULL = {
  warmupMs: 0,
  // Long enough to run the warm-up's code, far too short to warm anything.
  brokerWarmupMs: 500,
  measureMs: 1_000,
  requestsPerRun: 50,
  concurrencies: [1, 16, 64],
  rates: [50, 100],
  ingestEvents: 200,
  fanoutSubscriptions: 10,
  fanoutEvents: 10,
  // Generous: a smoke run checks the harness, and only waits this long when something is broken.
  ingestDeadlineMs: 60_000,
  fanoutDeadlineMs: 60_000,
  drainTimeoutMs: 10_000,
  users: 10,
  instructionsWarmupRequests: 20,
  instructionsRequests: 20,
};

export const USAGE = `npm run bench -- [options]

  --smoke                 tiny durations and counts (seconds, not minutes): checks the harness works
  --phases LIST           comma-separated subset of ${PHASES.join(',')} (default: all)
  --phases instructions   on its own: the instructions the app and the raw server execute per
                          POST /orders (relay and consumers included), counted by valgrind's
                          callgrind: repeatable within a few per cent where timings are not
  --kafka dedicated|LIST  dedicated (default): a broker of its own, started from infra/kafka/lib on
                          free ports with a fresh data folder, so the benchmark's records never land
                          on a shared broker (where every consumer group would have to read them) and
                          other runs' records never land in the measurement; or host:port[,host:port]
                          of a running broker
  --no-build              run the existing dist/ instead of running "npm run build" first
                          (--smoke never builds unless dist/main.js is missing)
  --cpu-prof              write a V8 CPU profile of the app to bench-results/profiles/
  --split                 run the app as two processes: APP_ROLE=api takes the HTTP load, APP_ROLE=worker
                          runs the consumers and the webhook dispatcher (memory is their sum)
  --broker-warmup-ms N    produce and consume on a topic of the harness's own for N ms before the
                          first phase, so neither side meets a cold broker (default 20000; --smoke 500)
  --warmup-ms N, --measure-ms N, --ingest-events N, --fanout-events N, --concurrency 1,16,64,
  --rates 500,1000        override the mode's values
  --out DIR               results folder, inside the repository (default bench-results)
  --database-url URL      the app's database, dropped and recreated (default .../nestream_bench)
  --raw-database-url URL  the baselines' database, dropped and recreated (default .../nestream_bench_raw)
`;

export function parseArgs(argv: string[]): BenchSettings {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"\n\n${USAGE}`);
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    const next = argv[i + 1];
    if (inline !== undefined) flags.set(name, inline);
    else if (next !== undefined && !next.startsWith('--') && VALUED.has(name)) {
      flags.set(name, next);
      i += 1;
    } else flags.set(name, true);
  }
  for (const name of flags.keys()) {
    if (!VALUED.has(name) && !SWITCHES.has(name)) throw new Error(`unknown option --${name}\n\n${USAGE}`);
  }
  const smoke = flags.has('smoke');
  const base = smoke ? SMOKE : FULL;
  const text = (name: string): string | undefined => {
    const v = flags.get(name);
    if (v === true) throw new Error(`--${name} needs a value`);
    return v;
  };
  const int = (name: string, fallback: number): number => {
    const v = text(name);
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v)) throw new Error(`--${name} must be a whole number (got "${v}")`);
    return Number(v);
  };
  const list = (name: string, fallback: number[]): number[] => {
    const v = text(name);
    if (v === undefined) return fallback;
    const items = v.split(',').map((s) => s.trim());
    if (items.some((s) => !/^\d+$/.test(s) || Number(s) === 0)) throw new Error(`--${name} must be a list of positive whole numbers (got "${v}")`);
    return items.map(Number);
  };
  const phases = (text('phases') ?? PHASES.join(',')).split(',').map((s) => s.trim()) as Phase[];
  const unknown = phases.filter((p) => !KNOWN_PHASES.includes(p));
  if (unknown.length > 0) throw new Error(`--phases: unknown phase ${unknown.join(', ')} (known: ${KNOWN_PHASES.join(', ')})`);
  // Every other phase would time an app slowed fifty-fold by valgrind.
  if (phases.includes('instructions') && phases.length > 1) throw new Error('--phases: instructions runs on its own');
  const suffix = smoke ? '_smoke' : '';
  const outDir = text('out') ? resolve(ROOT, text('out')!) : RESULTS_DIR;
  // The app is run from a copy under the results folder, which must resolve the repository's node_modules.
  if (relative(ROOT, outDir).startsWith('..')) throw new Error(`--out must be a folder inside ${ROOT}`);

  return {
    mode: smoke ? 'smoke' : 'full',
    warmupMs: int('warmup-ms', base.warmupMs),
    brokerWarmupMs: int('broker-warmup-ms', base.brokerWarmupMs),
    measureMs: int('measure-ms', base.measureMs),
    requestsPerRun: flags.has('measure-ms') ? undefined : base.requestsPerRun,
    concurrencies: list('concurrency', base.concurrencies),
    rates: list('rates', base.rates),
    ingestEvents: int('ingest-events', base.ingestEvents),
    fanoutSubscriptions: base.fanoutSubscriptions,
    fanoutEvents: int('fanout-events', base.fanoutEvents),
    ingestDeadlineMs: base.ingestDeadlineMs,
    fanoutDeadlineMs: base.fanoutDeadlineMs,
    // Under valgrind the consumers catch up with a thousand orders in minutes, not seconds.
    drainTimeoutMs: phases.includes('instructions') ? 600_000 : base.drainTimeoutMs,
    users: base.users,
    instructionsWarmupRequests: base.instructionsWarmupRequests,
    instructionsRequests: base.instructionsRequests,
    kafka: text('kafka') ?? 'dedicated',
    build: smoke ? false : !flags.has('no-build'),
    cpuProf: flags.has('cpu-prof'),
    split: flags.has('split'),
    phases: KNOWN_PHASES.filter((p) => phases.includes(p)),
    databaseUrl: text('database-url') ?? `postgres://postgres@127.0.0.1:5432/nestream_bench${suffix}`,
    rawDatabaseUrl: text('raw-database-url') ?? `postgres://postgres@127.0.0.1:5432/nestream_bench${suffix}_raw`,
    poolSize: 10,
    outDir,
  };
}

const VALUED = new Set(['out', 'phases', 'kafka', 'warmup-ms', 'broker-warmup-ms', 'measure-ms', 'ingest-events', 'fanout-events', 'concurrency', 'rates', 'database-url', 'raw-database-url']);
const SWITCHES = new Set(['smoke', 'no-build', 'cpu-prof', 'split', 'help']);

type NumericSetting = { [K in keyof EnvironmentVariables]-?: EnvironmentVariables[K] extends number ? K : never }[keyof EnvironmentVariables];

/**
 * An app setting a raw baseline matches: the run's BENCH_APP_<NAME> override, else the app's own
 * default (read from its settings class, so a changed default reaches the baselines too).
 */
export function appSetting(name: NumericSetting): number {
  return Number(process.env[`BENCH_APP_${name}`] ?? new EnvironmentVariables()[name]);
}

/** The app's consumer groups as `BENCH_APP_KAFKA_CONSUMER_GROUPS` chooses them (undefined: all): the only ones whose lag can fall. */
export function appConsumerGroups(): string[] | undefined {
  return listedGroups(process.env.BENCH_APP_KAFKA_CONSUMER_GROUPS ?? '');
}
