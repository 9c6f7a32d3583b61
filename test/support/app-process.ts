import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { waitFor } from './wait-for';

const root = join(__dirname, '../..');

/** A free TCP port on 127.0.0.1, for an app started in its own process. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The app in its own Node process (as `npm run start` runs it), for tests that read its logs,
 * send it signals or kill it.
 */
export class AppProcess {
  stdout = '';
  stderr = '';
  private exited?: Promise<number | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.stdout!.on('data', (chunk) => (this.stdout += chunk));
    child.stderr!.on('data', (chunk) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  static async start(env: Record<string, string> = {}): Promise<AppProcess> {
    const port = await freePort();
    const child = spawn(join(root, 'node_modules/.bin/ts-node'), ['--transpile-only', 'src/main.ts'], {
      cwd: root,
      env: { ...process.env, PORT: String(port), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const app = new AppProcess(child, port);
    await waitFor(
      `the app on port ${port} to be ready`,
      async () => {
        if (child.exitCode !== null) throw new Error(`app exited with ${child.exitCode}: ${app.stderr.slice(-2000)}`);
        const res = await fetch(`${app.url}/health/ready`).catch(() => undefined);
        return res?.status === 200;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    return app;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Parsed JSON log lines written so far. */
  logLines(): Record<string, unknown>[] {
    return this.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** Sends the signal (unless the process has already gone) and resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill(signal);
    return this.exited!;
  }

  /** Resolves with the exit code once the process exits on its own. */
  exit(): Promise<number | null> {
    return this.exited!;
  }
}
