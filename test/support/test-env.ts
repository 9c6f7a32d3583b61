// Settings every e2e test file runs with; a variable already set in the environment wins.
const defaults: Record<string, string> = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'warn',
  THROTTLE_LIMIT: '0',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/nestream_test',
  KAFKA_BROKERS: '127.0.0.1:9092',
  // One group per test run, starting at the end of each topic: a run sees only what it writes, not the
  // history other runs left on the shared local broker.
  KAFKA_GROUP_ID: `nestream-e2e-${(process.env.E2E_RUN_ID ??= String(Date.now()))}`,
  KAFKA_FROM_BEGINNING: 'false',
  KAFKA_CLIENT_ID: 'nestream-e2e',
  OUTBOX_POLL_INTERVAL_MS: '100',
  CONSUMER_RETRY_BACKOFF_MS: '50',
  KAFKAJS_NO_PARTITIONER_WARNING: '1',
  ADMIN_TOKEN: 'e2e-admin-token-0123456789',
  // Webhook receivers in tests listen on 127.0.0.1; a short schedule keeps retries within a test.
  WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
  WEBHOOK_RETRY_SCHEDULE: '0,300ms,600ms,1s,2s,2s,3s,3s',
  WEBHOOK_TIMEOUT_MS: '2000',
  WEBHOOK_POLL_INTERVAL_MS: '100',
};

for (const [key, value] of Object.entries(defaults)) {
  process.env[key] = process.env[`E2E_${key}`] ?? value;
}
