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
  validateSync,
} from 'class-validator';

const toBoolean = ({ value }: { value: unknown }) =>
  value === true || value === 'true' ? true : value === false || value === 'false' ? false : value;
const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
const toNumber = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;

/**
 * Every environment variable Nestream reads, with its default. This is the only place that
 * reads `process.env`; `.env.example` and the README's configuration table mirror it.
 */
export class EnvironmentVariables {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV = 'development';

  @Transform(toInt) @IsInt() @Min(1) @Max(65535)
  PORT = 3000;

  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/nestream';

  @Transform(toInt) @IsInt() @Min(1) @Max(200)
  DATABASE_POOL_SIZE = 10;

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

  @Transform(toInt) @IsInt() @Min(1) @Max(64)
  KAFKA_CONSUMER_CONCURRENCY = 3;

  @IsString() @MinLength(1)
  EVENT_SOURCE = '/nestream';

  @Transform(toInt) @IsInt() @Min(10) @Max(60000)
  OUTBOX_POLL_INTERVAL_MS = 500;

  @Transform(toInt) @IsInt() @Min(1) @Max(10000)
  OUTBOX_BATCH_SIZE = 500;

  @Transform(toInt) @IsInt() @Min(1) @Max(20)
  CONSUMER_MAX_ATTEMPTS = 3;

  @Transform(toInt) @IsInt() @Min(0) @Max(60000)
  CONSUMER_RETRY_BACKOFF_MS = 200;

  @Transform(toInt) @IsInt() @Min(1024) @Max(100 * 1024 * 1024)
  HTTP_BODY_LIMIT_BYTES = 1024 * 1024;

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
}

export class ConfigurationError extends Error {}

const SECRET_VARIABLES = new Set(['KAFKA_SASL_PASSWORD', 'ADMIN_TOKEN', 'DATABASE_URL']);

/** Validates the environment; throws one line naming the first bad variable. */
/** Every variable name, those with a default and the optional ones. */
export const ENV_VARIABLES: readonly string[] = [
  ...new Set([
    ...Object.keys(new EnvironmentVariables()),
    // Optional variables have no initializer, so depending on the compiler they may not be own keys.
    'KAFKA_SASL_MECHANISM',
    'KAFKA_SASL_USERNAME',
    'KAFKA_SASL_PASSWORD',
    'ADMIN_TOKEN',
  ]),
];

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
  return env;
}
