import { ConfigurationError, validateEnv } from './env';

function errorOf(raw: Record<string, unknown>): ConfigurationError {
  try {
    validateEnv(raw);
  } catch (err) {
    if (err instanceof ConfigurationError) return err;
    throw err;
  }
  throw new Error(`validateEnv accepted ${JSON.stringify(raw)}`);
}

const saslEnv = (overrides: Record<string, string> = {}) => ({
  KAFKA_SASL_MECHANISM: 'scram-sha-512',
  KAFKA_SASL_USERNAME: 'nestream',
  KAFKA_SASL_PASSWORD: 'sasl-password',
  ...overrides,
});

describe('validateEnv', () => {
  it('returns every default when the environment is empty', () => {
    const env = validateEnv({});

    expect(env).toMatchObject({
      NODE_ENV: 'development',
      PORT: 3000,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/nestream',
      DATABASE_POOL_SIZE: 10,
      DB_MIGRATE_ON_START: false,
      KAFKA_BROKERS: '127.0.0.1:9092',
      KAFKA_CLIENT_ID: 'nestream',
      KAFKA_GROUP_ID: 'nestream',
      KAFKA_TOPIC_PARTITIONS: 6,
      KAFKA_REPLICATION_FACTOR: 1,
      KAFKA_MIN_INSYNC_REPLICAS: 1,
      KAFKA_SSL: false,
      KAFKA_CONSUMER_CONCURRENCY: 6,
      EVENT_SOURCE: '/nestream',
      OUTBOX_POLL_INTERVAL_MS: 500,
      OUTBOX_BATCH_SIZE: 500,
      CONSUMER_MAX_ATTEMPTS: 3,
      CONSUMER_RETRY_BACKOFF_MS: 200,
      CONSUMER_BATCH_SIZE: 500,
      HTTP_BODY_LIMIT_BYTES: 1024 * 1024,
      LOG_LEVEL: 'info',
    });
    expect(env.KAFKA_SASL_MECHANISM).toBeUndefined();
    expect(env.ADMIN_TOKEN).toBeUndefined();
  });

  it('treats an empty variable as unset and uses its default', () => {
    const env = validateEnv({ PORT: '', KAFKA_BROKERS: '', DB_MIGRATE_ON_START: '', ADMIN_TOKEN: '' });

    expect(env.PORT).toBe(3000);
    expect(env.KAFKA_BROKERS).toBe('127.0.0.1:9092');
    expect(env.DB_MIGRATE_ON_START).toBe(false);
    expect(env.ADMIN_TOKEN).toBeUndefined();
  });

  it('parses numbers and booleans from their string form', () => {
    const env = validateEnv({
      PORT: '8080',
      KAFKA_TOPIC_PARTITIONS: '12',
      CONSUMER_RETRY_BACKOFF_MS: '0',
      DB_MIGRATE_ON_START: 'true',
      KAFKA_SSL: 'false',
    });

    expect(env.PORT).toBe(8080);
    expect(env.KAFKA_TOPIC_PARTITIONS).toBe(12);
    expect(env.CONSUMER_RETRY_BACKOFF_MS).toBe(0);
    expect(env.DB_MIGRATE_ON_START).toBe(true);
    expect(env.KAFKA_SSL).toBe(false);
  });

  it('accepts a comma-separated broker list', () => {
    expect(validateEnv({ KAFKA_BROKERS: 'kafka-1:9092,kafka-2:9093' }).KAFKA_BROKERS).toBe('kafka-1:9092,kafka-2:9093');
  });

  it.each([
    ['KAFKA_BROKERS', 'nope'],
    ['KAFKA_BROKERS', 'kafka-1:9092, kafka-2:9092'],
    ['PORT', '0'],
    ['PORT', '65536'],
    ['PORT', '3000abc'],
    ['KAFKA_TOPIC_PARTITIONS', 'x'],
    ['DB_MIGRATE_ON_START', 'yes'],
    ['NODE_ENV', 'staging'],
    ['KAFKA_SASL_MECHANISM', 'gssapi'],
  ])('rejects %s=%j with a ConfigurationError naming the variable and its value', (name, value) => {
    const err = errorOf({ [name]: value });

    expect(err.message).toContain(name);
    expect(err.message).toContain(JSON.stringify(value));
  });

  it('names ADMIN_TOKEN when it is too short without echoing the token', () => {
    const err = errorOf({ ADMIN_TOKEN: 'tooshort-secret' });

    expect(err.message).toContain('ADMIN_TOKEN');
    expect(err.message).not.toContain('tooshort-secret');
  });

  it('names DATABASE_URL when it is malformed without echoing its credentials', () => {
    const err = errorOf({ DATABASE_URL: 'mysql://root:hunter2@db:3306/app' });

    expect(err.message).toContain('DATABASE_URL');
    expect(err.message).not.toContain('hunter2');
  });

  it.each(['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'])('rejects a SASL mechanism without %s', (missing) => {
    const err = errorOf(saslEnv({ [missing]: '' }));

    expect(err.message).toContain(missing);
  });

  it('accepts a SASL mechanism with username and password', () => {
    expect(validateEnv(saslEnv())).toMatchObject(saslEnv());
  });

  it('rejects a min in-sync replica count above the replication factor', () => {
    const err = errorOf({ KAFKA_MIN_INSYNC_REPLICAS: '2', KAFKA_REPLICATION_FACTOR: '1' });

    expect(err.message).toContain('KAFKA_MIN_INSYNC_REPLICAS');
  });

  it('rejects a fetch wait as long as the session timeout, which would get an idle consumer evicted', () => {
    const err = errorOf({ KAFKA_FETCH_MAX_WAIT_MS: '30000', KAFKA_SESSION_TIMEOUT_MS: '30000' });

    expect(err.message).toContain('KAFKA_FETCH_MAX_WAIT_MS must be less than KAFKA_SESSION_TIMEOUT_MS');
  });

  it('accepts a fetch wait just below the session timeout', () => {
    expect(validateEnv({ KAFKA_FETCH_MAX_WAIT_MS: '5999', KAFKA_SESSION_TIMEOUT_MS: '6000' }).KAFKA_FETCH_MAX_WAIT_MS).toBe(5999);
  });

  it('accepts the consumer groups an instance runs as a comma-separated list of group names', () => {
    expect(validateEnv({ KAFKA_CONSUMER_GROUPS: 'persistence, webhooks' }).KAFKA_CONSUMER_GROUPS).toBe('persistence, webhooks');
    expect(validateEnv({}).KAFKA_CONSUMER_GROUPS).toBe('');
  });

  it('rejects a consumer group the app does not have, naming the ones it has', () => {
    const err = errorOf({ KAFKA_CONSUMER_GROUPS: 'persistence,orders' });

    expect(err.message).toContain('KAFKA_CONSUMER_GROUPS must be empty or a comma-separated list of: persistence, webhooks, live, analytics');
  });

  it('accepts a min in-sync replica count equal to the replication factor', () => {
    expect(validateEnv({ KAFKA_MIN_INSYNC_REPLICAS: '3', KAFKA_REPLICATION_FACTOR: '3' }).KAFKA_MIN_INSYNC_REPLICAS).toBe(3);
  });
});
