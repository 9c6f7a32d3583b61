import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..');

/** Starts `src/main.ts` the way `npm run start` does and returns how it ended. */
function start(env: Record<string, string>) {
  const result = spawnSync(join(root, 'node_modules/.bin/ts-node'), ['--transpile-only', 'src/main.ts'], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, stderrLines: result.stderr.trim().split('\n') };
}

describe('Start-up configuration check', () => {
  it('stops with exit code 1 and one line naming a malformed variable', () => {
    const { status, stderrLines } = start({ KAFKA_BROKERS: 'not a broker list' });
    expect(status).toBe(1);
    expect(stderrLines).toEqual(['Invalid configuration: KAFKA_BROKERS must be a comma-separated list of host:port (got "not a broker list")']);
  });

  it('names a secret variable without echoing its value', () => {
    const { status, stderrLines } = start({ ADMIN_TOKEN: 'short-secret' });
    expect(status).toBe(1);
    expect(stderrLines).toEqual(['Invalid configuration: ADMIN_TOKEN must be at least 16 characters']);
  });
});
