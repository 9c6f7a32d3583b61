import { ConfigType, registerAs } from '@nestjs/config';
import { listedGroups } from '../messaging/kafka/consumer-groups';
import { parseDurationList, validateEnv } from './env';

/** Typed configuration, grouped by area; built once from the validated environment. */
export const appConfig = registerAs('app', () => {
  const env = validateEnv(process.env);
  return {
    env: env.NODE_ENV,
    role: roleOf(env.APP_ROLE),
    http: {
      port: env.PORT,
      bodyLimitBytes: env.HTTP_BODY_LIMIT_BYTES,
      maxInFlight: env.HTTP_MAX_IN_FLIGHT,
      logLevel: env.LOG_LEVEL,
      throttle: { ttlMs: env.THROTTLE_TTL_MS, limit: env.THROTTLE_LIMIT },
      corsOrigins: env.CORS_ORIGINS ? env.CORS_ORIGINS.split(',') : [],
    },
    database: {
      url: env.DATABASE_URL,
      poolSize: env.DATABASE_POOL_SIZE,
      poolReserved: env.DATABASE_POOL_RESERVED,
      migrateOnStart: env.DB_MIGRATE_ON_START,
    },
    kafka: {
      brokers: env.KAFKA_BROKERS.split(','),
      clientId: env.KAFKA_CLIENT_ID,
      groupId: env.KAFKA_GROUP_ID,
      topicPartitions: env.KAFKA_TOPIC_PARTITIONS,
      replicationFactor: env.KAFKA_REPLICATION_FACTOR,
      minInsyncReplicas: env.KAFKA_MIN_INSYNC_REPLICAS,
      ssl: env.KAFKA_SSL,
      sasl: env.KAFKA_SASL_MECHANISM
        ? { mechanism: env.KAFKA_SASL_MECHANISM, username: env.KAFKA_SASL_USERNAME!, password: env.KAFKA_SASL_PASSWORD! }
        : undefined,
      consumerConcurrency: env.KAFKA_CONSUMER_CONCURRENCY,
      /** The consumer groups this instance runs; undefined: all of them. */
      consumerGroups: listedGroups(env.KAFKA_CONSUMER_GROUPS),
      sessionTimeoutMs: env.KAFKA_SESSION_TIMEOUT_MS,
      stallRestartMs: env.KAFKA_STALL_RESTART_MS,
      commitIntervalMs: env.KAFKA_COMMIT_INTERVAL_MS,
      fetch: { minBytes: env.KAFKA_FETCH_MIN_BYTES, maxWaitTimeInMs: env.KAFKA_FETCH_MAX_WAIT_MS },
      fromBeginning: env.KAFKA_FROM_BEGINNING,
      retention: { eventsMs: env.KAFKA_RETENTION_MS, deadLettersMs: env.KAFKA_DLQ_RETENTION_MS },
    },
    events: { source: env.EVENT_SOURCE, snapshotEvery: env.EVENT_SNAPSHOT_EVERY },
    outbox: {
      pollIntervalMs: env.OUTBOX_POLL_INTERVAL_MS,
      batchSize: env.OUTBOX_BATCH_SIZE,
      readyMaxAgeMs: env.OUTBOX_READY_MAX_AGE_MS,
    },
    consumers: { maxAttempts: env.CONSUMER_MAX_ATTEMPTS, retryBackoffMs: env.CONSUMER_RETRY_BACKOFF_MS, batchSize: env.CONSUMER_BATCH_SIZE },
    adminToken: env.ADMIN_TOKEN,
    shutdown: { timeoutMs: env.SHUTDOWN_TIMEOUT_MS, drainMs: env.SHUTDOWN_DRAIN_MS },
    analytics: {
      hopping: { sizeMinutes: env.ANALYTICS_HOPPING_WINDOW_MINUTES, hopMinutes: env.ANALYTICS_HOPPING_HOP_MINUTES },
      rules: {
        amountStddevK: env.ANALYTICS_AMOUNT_STDDEV_K,
        amountMinSamples: env.ANALYTICS_AMOUNT_MIN_SAMPLES,
        ordersPerWindowCeiling: env.ANALYTICS_ORDERS_PER_WINDOW_CEILING,
        ordersSpikeFactor: env.ANALYTICS_ORDERS_SPIKE_FACTOR,
        ordersSpikeBaselineWindows: env.ANALYTICS_ORDERS_SPIKE_BASELINE_WINDOWS,
        ordersSpikeMinOrders: env.ANALYTICS_ORDERS_SPIKE_MIN_ORDERS,
        cancellationBurst: env.ANALYTICS_CANCELLATION_BURST,
      },
    },
    live: { pollIntervalMs: env.LIVE_STREAM_POLL_INTERVAL_MS, retentionHours: env.LIVE_STREAM_RETENTION_HOURS },
    webhooks: {
      allowPrivateTargets: env.WEBHOOK_ALLOW_PRIVATE_TARGETS,
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      retry: {
        scheduleMs: parseDurationList(env.WEBHOOK_RETRY_SCHEDULE),
        jitterPercent: env.WEBHOOK_RETRY_JITTER_PERCENT,
        retryAfterMaxMs: env.WEBHOOK_RETRY_AFTER_MAX_SECONDS * 1000,
      },
      endpointConcurrency: env.WEBHOOK_ENDPOINT_CONCURRENCY,
      dispatchConcurrency: env.WEBHOOK_DISPATCH_CONCURRENCY,
      pollIntervalMs: env.WEBHOOK_POLL_INTERVAL_MS,
      leaseMs: env.WEBHOOK_LEASE_MS,
      disableAfterMs: env.WEBHOOK_DISABLE_AFTER_HOURS * 3_600_000,
      retentionMs: env.WEBHOOK_RETENTION_DAYS * 86_400_000,
      secretGraceMs: env.WEBHOOK_SECRET_GRACE_HOURS * 3_600_000,
      inboundSecret: env.INBOUND_WEBHOOK_SECRET,
    },
  };
});

export type AppConfig = ConfigType<typeof appConfig>;

export interface Role {
  name: 'all' | 'api' | 'worker';
  /** Kafka consumers (every @EventPattern handler). */
  consumes: boolean;
  /** Webhook dispatcher, anomaly sweeps, webhook retention: work no HTTP request waits for. */
  runsBackgroundJobs: boolean;
  /** Every HTTP route; otherwise only /health and /metrics. */
  servesApi: boolean;
}

function roleOf(name: Role['name']): Role {
  return { name, consumes: name !== 'api', runsBackgroundJobs: name !== 'api', servesApi: name !== 'worker' };
}
