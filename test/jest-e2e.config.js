// E2E tests: the real app against the real Kafka broker and PostgreSQL, one file at a time.
const base = require('../jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  rootDir: '..',
  testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  setupFiles: ['<rootDir>/test/support/test-env.ts'],
  testTimeout: 60_000,
  maxWorkers: 1,
  // Once every test has a result, the run's outcome is decided. The suite starts and closes dozens of
  // apps; a kafkajs client of a closed app (2.2.4, unmaintained) can keep a reconnect or request going
  // for minutes, and in one CI run all 193 tests passed and Jest still exited 1 two minutes later.
  // Leaks of the app's own shutdown are tested where they matter (graceful-shutdown.e2e-spec.ts).
  forceExit: true,
};
