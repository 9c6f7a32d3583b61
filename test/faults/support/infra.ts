import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(__dirname, '../../..');

export type BrokerNode = 'single' | 'node-1' | 'node-2' | 'node-3';

/** The single dev broker, and the three-node KRaft cluster of `infra-up.sh --cluster`. */
export const SINGLE_BROKER = '127.0.0.1:9092';
export const CLUSTER_BROKERS = '127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094';

async function script(name: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run('bash', [join(root, 'infra/bin', name), ...args], { cwd: root, timeout: 240_000 });
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`${name} ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** infra/bin/kafka-ctl.sh: stop (SIGTERM), kill (SIGKILL) or start one broker; start waits until it answers. */
export function kafkaCtl(action: 'stop' | 'kill' | 'start', node: BrokerNode): Promise<string> {
  return script('kafka-ctl.sh', [action, node]);
}

export function clusterUp(): Promise<string> {
  return script('infra-up.sh', ['--cluster', '--no-postgres']);
}

export function clusterDown(): Promise<string> {
  return script('infra-down.sh', ['--cluster']);
}

/**
 * The machine's PostgreSQL cluster (Debian's `main`), shared with everything else on the machine:
 * callers keep it stopped for seconds only and always start it again in a `finally`.
 */
export const postgres = {
  version(): string {
    const versions = readdirSync('/etc/postgresql').sort((a, b) => Number(a) - Number(b));
    if (versions.length === 0) throw new Error('no PostgreSQL cluster under /etc/postgresql');
    return versions[versions.length - 1];
  },
  async ctl(action: 'stop' | 'start'): Promise<void> {
    // pg_ctlcluster stops in "fast" mode: clients are disconnected at once, as in a crash of the server.
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', postgres.version(), 'main', action], { timeout: 60_000 });
  },
};
