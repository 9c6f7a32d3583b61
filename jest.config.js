// Unit tests: beside the code, no network. Nest 12 ships ES modules, which Jest's CommonJS runtime on
// Node 20 cannot require, so SWC compiles them (and our TypeScript) to CommonJS on the fly.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];

/** @type {import('jest').Config} */
module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  transform: { '^.+\\.(t|j)s$': swc },
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|uid)/)'],
  moduleFileExtensions: ['ts', 'js', 'json'],
};
