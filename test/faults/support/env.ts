// The fault tests' own database, client id and consumer groups, so they never clobber the e2e suite
// or a developer's app that share this machine's PostgreSQL and broker. test/support/test-env.ts
// reads these (`E2E_<NAME>` wins over its defaults); a variable already set in the environment wins here.
const FAULTS_DEFAULTS: Record<string, string> = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/nestream_faults',
  KAFKA_CLIENT_ID: 'nestream-faults',
  KAFKA_GROUP_ID: 'nestream-faults',
  // Short backoff so a message that fails every attempt reaches its dead-letter topic within the test.
  CONSUMER_RETRY_BACKOFF_MS: '50',
};

for (const [key, value] of Object.entries(FAULTS_DEFAULTS)) {
  process.env[`E2E_${key}`] ??= value;
}
