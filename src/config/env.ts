import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  NotEquals,
  validateSync,
} from 'class-validator';
import { ConsumerGroups } from '../messaging/kafka/consumer-groups';

const toBoolean = ({ value }: { value: unknown }) =>
  value === true || value === 'true' ? true : value === false || value === 'false' ? false : value;
const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
const toNumber = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;

// A comma-separated list of durations: 0 or a whole number with a unit (ms, s, m, h, d).
const DURATION_LIST = /^\s*(0|\d+(ms|s|m|h|d))(\s*,\s*(0|\d+(ms|s|m|h|d)))*\s*$/;
// Empty, or a comma-separated list of the app's consumer group names.
const GROUP_NAME = `(${Object.values(ConsumerGroups).join('|')})`;
const GROUP_LIST = new RegExp(`^(\\s*${GROUP_NAME}\\s*(,\\s*${GROUP_NAME}\\s*)*)?$`);
const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `0,5s,5m` → `[0, 5000, 300000]`; the text has passed DURATION_LIST. */
export function parseDurationList(text: string): number[] {
  return text.split(',').map((item) => {
    const m = /^(\d+)(ms|s|m|h|d)?$/.exec(item.trim())!;
    return Number(m[1]) * DURATION_UNIT_MS[m[2] ?? 'ms'];
  });
}

/**
 * Every environment variable Nestream reads, with its default. This is the only place that
 * reads `process.env`; `.env.example` and the README's configuration table mirror it.
 */
export class EnvironmentVariables {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV = 'development';

  @Transform(toInt) @IsInt() @Min(1) @Max(65535)
  PORT = 3000;

  /**
   * What this process runs. `all`: everything. `api`: HTTP and the outbox relay, no Kafka consumers
   * and no background jobs. `worker`: consumers, webhook dispatcher and background jobs, with HTTP
   * serving /health and /metrics only. Lets HTTP and the consumers each have a CPU of their own.
   */
  @IsIn(['all', 'api', 'worker'])
  APP_ROLE: 'all' | 'api' | 'worker' = 'all';

  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/nestream';

  @Transform(toInt) @IsInt() @Min(1) @Max(200)
  DATABASE_POOL_SIZE = 10;

  /**
   * Connections HTTP requests cannot take, kept for the outbox relay, the consumers and the webhook
   * dispatcher so an HTTP flood never makes them wait (HTTP holds at most pool − reserve, at least 1).
   */
  @Transform(toInt) @IsInt() @Min(0) @Max(199)
  DATABASE_POOL_RESERVED = 4;

  @Transform(toBoolean) @IsBoolean()
  DB_MIGRATE_ON_START = false;

  @Matches(/^[^\s,:]+:\d+(,[^\s,:]+:\d+)*$/, {
    message: 'KAFKA_BROKERS must be a comma-separated list of host:port',
  })
  KAFKA_BROKERS = '127.0.0.1:9092';

  @IsString() @Matches(/^[A-Za-z0-9._-]+$/, { message: 'KAFKA_CLIENT_ID may hold letters, digits, ".", "_" and "-"' })
  KAFKA_CLIENT_ID = 'nestream';

  @IsString() @Matches(/^[A-Za-z0-9._-]+$/, { message: 'KAFKA_GROUP_ID may hold letters, digits, ".", "_" and "-"' })
  KAFKA_GROUP_ID = 'nestream';

  @Transform(toInt) @IsInt() @Min(1) @Max(1000)
  KAFKA_TOPIC_PARTITIONS = 6;

  @Transform(toInt) @IsInt() @Min(1) @Max(10)
  KAFKA_REPLICATION_FACTOR = 1;

  @Transform(toInt) @IsInt() @Min(1) @Max(10)
  KAFKA_MIN_INSYNC_REPLICAS = 1;

  @Transform(toBoolean) @IsBoolean()
  KAFKA_SSL = false;

  @IsOptional() @IsIn(['plain', 'scram-sha-256', 'scram-sha-512'])
  KAFKA_SASL_MECHANISM?: 'plain' | 'scram-sha-256' | 'scram-sha-512';

  @IsOptional() @IsString()
  KAFKA_SASL_USERNAME?: string;

  @IsOptional() @IsString()
  KAFKA_SASL_PASSWORD?: string;

  /**
   * Partitions one instance hands to its handlers at once, in each consumer group (kafkajs'
   * partitionsConsumedConcurrently).
   * As many as a topic has partitions: with 3, a record waited for other partitions' batches, and
   * commit → consumer p99 at 1,000 writes/s was 343–383 ms on two cores against 179–224 ms with 6.
   */
  @Transform(toInt) @IsInt() @Min(1) @Max(64)
  KAFKA_CONSUMER_CONCURRENCY = 6;

  /**
   * The consumer groups this instance runs (with APP_ROLE all or worker), comma-separated; empty runs
   * them all. Lets a deployment give a module's consumers instances of their own: on two shared cores
   * the persistence group alone stored outside events at 0.72–0.87× of the raw eachBatch consumer, and
   * beside the other three groups at 0.34–0.46× (docs/benchmarks.md).
   */
  @Matches(GROUP_LIST, { message: `KAFKA_CONSUMER_GROUPS must be empty or a comma-separated list of: ${Object.values(ConsumerGroups).join(', ')}` })
  KAFKA_CONSUMER_GROUPS = '';

  /**
   * How long the group waits for a silent member before handing its partitions to the others: the
   * takeover time after a crash. Shorter means faster takeover but more rebalances on a slow machine.
   */
  @Transform(toInt) @IsInt() @Min(6000) @Max(300000)
  KAFKA_SESSION_TIMEOUT_MS = 30000;

  /**
   * A partition with records waiting that gets no batch for this long makes the instance restart its
   * consumer (kafkajs can stop fetching a partition after a broker dies); 0 turns the watchdog off.
   */
  @Transform(toInt) @IsInt() @Min(0) @Max(600000)
  KAFKA_STALL_RESTART_MS = 60000;

  /**
   * How often each consumer group commits its offsets while it consumes; 0 commits after every batch
   * (kafkajs' default). What was handled since the last commit is delivered again after a crash or a
   * rebalance, and the inbox drops it; lag figures run up to this much behind.
   */
  @Transform(toInt) @IsInt() @Min(0) @Max(60000)
  KAFKA_COMMIT_INTERVAL_MS = 1000;

  /**
   * How much a consumer's fetch waits for (Kafka's fetch.min.bytes) before the broker answers, up to
   * KAFKA_FETCH_MAX_WAIT_MS. 1 answers as soon as there is a record: the lowest latency, and under load
   * many small fetches, each batch a consumer transaction of its own.
   */
  @Transform(toInt) @IsInt() @Min(1) @Max(52428800)
  KAFKA_FETCH_MIN_BYTES = 1;

  /** The longest the broker holds a consumer's fetch waiting for KAFKA_FETCH_MIN_BYTES (fetch.max.wait.ms); below the session timeout. */
  @Transform(toInt) @IsInt() @Min(0) @Max(60000)
  KAFKA_FETCH_MAX_WAIT_MS = 5000;

  /** Where a consumer group with no committed offsets starts: the beginning of each topic, or its end. */
  @Transform(toBoolean) @IsBoolean()
  KAFKA_FROM_BEGINNING = true;

  /** retention.ms of the event topics the app creates; -1 keeps them forever (replay from the beginning). */
  @Transform(toInt) @IsInt() @Min(-1) @NotEquals(0, { message: 'KAFKA_RETENTION_MS must be -1 (forever) or a positive number of milliseconds' })
  KAFKA_RETENTION_MS = -1;

  /** retention.ms of the dead-letter topics the app creates; -1 keeps them forever. */
  @Transform(toInt) @IsInt() @Min(-1) @NotEquals(0, { message: 'KAFKA_DLQ_RETENTION_MS must be -1 (forever) or a positive number of milliseconds' })
  KAFKA_DLQ_RETENTION_MS = -1;

  @IsString() @MinLength(1)
  EVENT_SOURCE = '/nestream';

  /** Time travel saves an entity's folded state every this many events, and later starts from it. */
  @Transform(toInt) @IsInt() @Min(2) @Max(1_000_000)
  EVENT_SNAPSHOT_EVERY = 100;

  @Transform(toInt) @IsInt() @Min(10) @Max(60000)
  OUTBOX_POLL_INTERVAL_MS = 500;

  @Transform(toInt) @IsInt() @Min(1) @Max(10000)
  OUTBOX_BATCH_SIZE = 500;

  @Transform(toInt) @IsInt() @Min(1) @Max(20)
  CONSUMER_MAX_ATTEMPTS = 3;

  @Transform(toInt) @IsInt() @Min(0) @Max(60000)
  CONSUMER_RETRY_BACKOFF_MS = 200;

  /**
   * Most records one consumer applies in one transaction, and one `@EventPattern` call gets; 1 gives every
   * record its own. 500 (100 before): fewer commits and calls, measured in docs/benchmarks.md.
   */
  @Transform(toInt) @IsInt() @Min(1) @Max(10000)
  CONSUMER_BATCH_SIZE = 500;

  @Transform(toInt) @IsInt() @Min(1024) @Max(100 * 1024 * 1024)
  HTTP_BODY_LIMIT_BYTES = 1024 * 1024;

  /** Requests in flight beyond which new ones get 503 with Retry-After at once (0: no bound). */
  @Transform(toInt) @IsInt() @Min(0) @Max(100000)
  HTTP_MAX_IN_FLIGHT = 256;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @Transform(toInt) @IsInt() @Min(100) @Max(3_600_000)
  THROTTLE_TTL_MS = 10_000;

  /** Requests per client address per window; 0 turns rate limiting off. */
  @Transform(toInt) @IsInt() @Min(0) @Max(10_000_000)
  THROTTLE_LIMIT = 1000;

  /** Comma-separated origins allowed by CORS; empty means no cross-origin access. */
  @IsString() @Matches(/^$|^https?:\/\/[^\s,]+(,https?:\/\/[^\s,]+)*$/, { message: 'CORS_ORIGINS must be a comma-separated list of http(s) origins' })
  CORS_ORIGINS = '';

  /** After SIGTERM/SIGINT, the process exits by this deadline even if shutdown is not finished. */
  @Transform(toInt) @IsInt() @Min(1000) @Max(600_000)
  SHUTDOWN_TIMEOUT_MS = 30_000;

  /** After SIGTERM/SIGINT, readiness reports false this long before HTTP stops taking requests. */
  @Transform(toInt) @IsInt() @Min(0) @Max(120_000)
  SHUTDOWN_DRAIN_MS = 0;

  /** Readiness fails when the oldest unpublished outbox record is older than this. */
  @Transform(toInt) @IsInt() @Min(1000) @Max(86_400_000)
  OUTBOX_READY_MAX_AGE_MS = 60_000;

  @IsOptional() @IsString() @MinLength(16, { message: 'ADMIN_TOKEN must be at least 16 characters' }) @MaxLength(512)
  ADMIN_TOKEN?: string;

  // Analytics: the hopping window (size and hop, whole minutes) and the anomaly rules' thresholds.
  @Transform(toInt) @IsInt() @Min(1) @Max(1440)
  ANALYTICS_HOPPING_WINDOW_MINUTES = 5;

  @Transform(toInt) @IsInt() @Min(1) @Max(1440)
  ANALYTICS_HOPPING_HOP_MINUTES = 1;

  @Transform(toNumber) @IsNumber() @Min(0.5) @Max(100)
  ANALYTICS_AMOUNT_STDDEV_K = 3;

  @Transform(toInt) @IsInt() @Min(2) @Max(1_000_000)
  ANALYTICS_AMOUNT_MIN_SAMPLES = 10;

  @Transform(toInt) @IsInt() @Min(0) @Max(100_000_000)
  ANALYTICS_ORDERS_PER_WINDOW_CEILING = 1000;

  @Transform(toNumber) @IsNumber() @Min(1) @Max(1000)
  ANALYTICS_ORDERS_SPIKE_FACTOR = 3;

  @Transform(toInt) @IsInt() @Min(1) @Max(1440)
  ANALYTICS_ORDERS_SPIKE_BASELINE_WINDOWS = 10;

  @Transform(toInt) @IsInt() @Min(1) @Max(100_000_000)
  ANALYTICS_ORDERS_SPIKE_MIN_ORDERS = 20;

  @Transform(toInt) @IsInt() @Min(0) @Max(100_000_000)
  ANALYTICS_CANCELLATION_BURST = 10;

  // Live event stream (GET /events/stream): how often instances look for new events, how long they are kept.
  @Transform(toInt) @IsInt() @Min(20) @Max(60_000)
  LIVE_STREAM_POLL_INTERVAL_MS = 250;

  @Transform(toInt) @IsInt() @Min(1) @Max(24 * 365)
  LIVE_STREAM_RETENTION_HOURS = 24;
  // Outbound webhooks: delivery, retries, auto-disable, retention; and the inbound endpoints' secret.
  /** Lets webhook URLs point at loopback, private, link-local or metadata addresses (local development, tests). */
  @Transform(toBoolean) @IsBoolean()
  WEBHOOK_ALLOW_PRIVATE_TARGETS = false;

  /** A delivery attempt succeeds only with a 2xx within this time. */
  @Transform(toInt) @IsInt() @Min(100) @Max(120_000)
  WEBHOOK_TIMEOUT_MS = 15_000;

  /** Delay before each attempt, counted from the previous one (units ms, s, m, h, d); its length is the number of attempts. */
  @Matches(DURATION_LIST, { message: 'WEBHOOK_RETRY_SCHEDULE must be a comma-separated list of durations such as 0,5s,5m,2h' })
  WEBHOOK_RETRY_SCHEDULE = '0,5s,5m,30m,2h,5h,10h,10h';

  /** Each retry delay is moved by up to this share, at random, so failed endpoints are not hit in lockstep. */
  @Transform(toInt) @IsInt() @Min(0) @Max(100)
  WEBHOOK_RETRY_JITTER_PERCENT = 20;

  /** Upper bound on a Retry-After (429, 503) the dispatcher honours. */
  @Transform(toInt) @IsInt() @Min(1) @Max(86_400)
  WEBHOOK_RETRY_AFTER_MAX_SECONDS = 3600;

  /**
   * Requests in flight at once per subscription, across all instances. A request holds its place from
   * its claim to its recorded result (tens of milliseconds under load), so this bounds a subscription's
   * deliveries per second: 5 kept one busy subscription at about 150/s, and 10 below the 600–680
   * orders/s one instance wrote on two cores (its backlog grew for as long as the writes ran:
   * commit → webhook p99 11.8 s after 13 s at 1,000 writes/s offered, 318 ms with 50). Lower it for a
   * receiver that cannot take this many requests at once.
   */
  @Transform(toInt) @IsInt() @Min(1) @Max(1000)
  WEBHOOK_ENDPOINT_CONCURRENCY = 50;

  /**
   * Requests in flight at once per instance, all subscriptions together. Each claim takes the places
   * freed since the last one, so more places mean fewer claims per delivery: with ten subscriptions
   * on two cores, 100 sent 2,175–2,203 deliveries/s (a backlog: 3,891–4,127/s) where 50 sent 1,838
   * (2,878). Ten subscriptions at a WEBHOOK_ENDPOINT_CONCURRENCY of 50 sent as many with 100 places
   * as at 10 (2,740–2,966 against 2,538–3,176 deliveries/s, within this machine's noise).
   */
  @Transform(toInt) @IsInt() @Min(1) @Max(10_000)
  WEBHOOK_DISPATCH_CONCURRENCY = 100;

  /** Fallback poll for due deliveries (new deliveries and finished attempts wake the dispatcher at once). */
  @Transform(toInt) @IsInt() @Min(10) @Max(60_000)
  WEBHOOK_POLL_INTERVAL_MS = 1000;

  /** How long an instance owns a claimed delivery; after a crash it is retried once this has passed. */
  @Transform(toInt) @IsInt() @Min(1000) @Max(3_600_000)
  WEBHOOK_LEASE_MS = 60_000;

  /** A subscription without a single success for this long is disabled (and webhook.disabled is published). */
  @Transform(toInt) @IsInt() @Min(1) @Max(24 * 365)
  WEBHOOK_DISABLE_AFTER_HOURS = 120;

  /** Payloads and response bodies of finished deliveries are purged after this many days. */
  @Transform(toInt) @IsInt() @Min(1) @Max(3650)
  WEBHOOK_RETENTION_DAYS = 30;

  /** After a secret rotation, deliveries carry signatures of the old and the new secret for this long. */
  @Transform(toInt) @IsInt() @Min(0) @Max(24 * 30)
  WEBHOOK_SECRET_GRACE_HOURS = 24;

  /** When set, POST /webhook/* requires Standard Webhooks signatures made with this secret. */
  @IsOptional() @Matches(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, {
    message: 'INBOUND_WEBHOOK_SECRET must be "whsec_" followed by the base64 of at least 24 bytes',
  })
  INBOUND_WEBHOOK_SECRET?: string;
}

export class ConfigurationError extends Error {}

const SECRET_VARIABLES = new Set(['KAFKA_SASL_PASSWORD', 'ADMIN_TOKEN', 'DATABASE_URL', 'INBOUND_WEBHOOK_SECRET']);

/** Every variable name, those with a default and the optional ones. */
export const ENV_VARIABLES: readonly string[] = [
  ...new Set([
    ...Object.keys(new EnvironmentVariables()),
    // Optional variables have no initializer, so depending on the compiler they may not be own keys.
    'KAFKA_SASL_MECHANISM',
    'KAFKA_SASL_USERNAME',
    'KAFKA_SASL_PASSWORD',
    'ADMIN_TOKEN',
    'INBOUND_WEBHOOK_SECRET',
  ]),
];

/** Validates the environment; throws one line naming the first bad variable. */
export function validateEnv(raw: Record<string, unknown>): EnvironmentVariables {
  const defined: Record<string, unknown> = {};
  for (const key of ENV_VARIABLES) {
    // An empty variable means "use the default", as in most twelve-factor tooling.
    if (raw[key] !== undefined && raw[key] !== '') defined[key] = raw[key];
  }
  const env = plainToInstance(EnvironmentVariables, defined);
  const errors = validateSync(env, { whitelist: true });
  if (errors.length > 0) {
    const first = errors[0];
    const reason = Object.values(first.constraints ?? {})[0] ?? 'is invalid';
    // Secrets are named, never echoed.
    const shown = SECRET_VARIABLES.has(first.property) ? '' : ` (got ${JSON.stringify(raw[first.property])})`;
    throw new ConfigurationError(`Invalid configuration: ${reason}${shown}`);
  }
  if (env.KAFKA_SASL_MECHANISM && (!env.KAFKA_SASL_USERNAME || !env.KAFKA_SASL_PASSWORD)) {
    throw new ConfigurationError('Invalid configuration: KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required when KAFKA_SASL_MECHANISM is set');
  }
  if (env.NODE_ENV === 'production' && !env.ADMIN_TOKEN) {
    throw new ConfigurationError('Invalid configuration: ADMIN_TOKEN is required when NODE_ENV=production');
  }
  if (env.KAFKA_MIN_INSYNC_REPLICAS > env.KAFKA_REPLICATION_FACTOR) {
    throw new ConfigurationError('Invalid configuration: KAFKA_MIN_INSYNC_REPLICAS must not exceed KAFKA_REPLICATION_FACTOR');
  }
  if (env.ANALYTICS_HOPPING_HOP_MINUTES > env.ANALYTICS_HOPPING_WINDOW_MINUTES) {
    throw new ConfigurationError('Invalid configuration: ANALYTICS_HOPPING_HOP_MINUTES must not exceed ANALYTICS_HOPPING_WINDOW_MINUTES');
  }
  // An idle consumer heartbeats only between fetches: a fetch held as long as the session would get it evicted.
  if (env.KAFKA_FETCH_MAX_WAIT_MS >= env.KAFKA_SESSION_TIMEOUT_MS) {
    throw new ConfigurationError('Invalid configuration: KAFKA_FETCH_MAX_WAIT_MS must be less than KAFKA_SESSION_TIMEOUT_MS');
  }
  if (env.WEBHOOK_LEASE_MS <= env.WEBHOOK_TIMEOUT_MS) {
    throw new ConfigurationError('Invalid configuration: WEBHOOK_LEASE_MS must exceed WEBHOOK_TIMEOUT_MS');
  }
  return env;
}
