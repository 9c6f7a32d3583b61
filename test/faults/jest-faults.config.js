// Fault tests (`npm run test:faults`): the real app in its own processes against the real broker(s) and
// PostgreSQL, with one thing broken per file. One file at a time: they stop shared infrastructure.
const base = require('../../jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  rootDir: '../..',
  testMatch: ['<rootDir>/test/faults/**/*.fault-spec.ts'],
  globalSetup: '<rootDir>/test/faults/support/global-setup.ts',
  setupFiles: ['<rootDir>/test/faults/support/test-env.ts'],
  testSequencer: '<rootDir>/test/faults/support/sequencer.js',
  testTimeout: 300_000,
  maxWorkers: 1,
};
