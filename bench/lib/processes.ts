import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ROOT } from '../settings';
import { sleep, waitFor } from './time';

const children = new Set<ChildProcess>();
// Last resort if the harness dies: no broker, app or baseline outlives it.
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Registers a child process to be killed if the harness exits without stopping it. */
export function killOnExit(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Compiles the app (unless told not to) and copies dist/ aside: others build in this checkout too, and
 * `nest build` empties dist/ first. The copy sits one level below the repository root, as dist/ does,
 * so it resolves node_modules and package.json the same way.
 */
export function prepareCompiledApp(outDir: string, build: boolean, runId: string, log: (line: string) => void): string {
  const dist = join(ROOT, 'dist');
  if (build || !existsSync(join(dist, 'main.js'))) {
    log('building the app (npm run build)');
    const res = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    if (res.status !== 0) throw new Error(`npm run build failed with exit code ${res.status}`);
  }
  // One copy per run: a smoke test and a full run may overlap.
  const copy = join(outDir, `.app-${runId}`);
  mkdirSync(outDir, { recursive: true });
  cpSync(dist, copy, { recursive: true });
  process.once('exit', () => rmSync(copy, { recursive: true, force: true }));
  return copy;
}

/** Peak resident set size of a process (or of a deployment's processes together), sampled from /proc while a phase runs. */
export class RssSampler {
  private timer?: NodeJS.Timeout;
  private peakKb = 0;

  /** Pids, or a function giving the current ones (the app may be restarted during a phase). */
  constructor(private readonly pids: number | readonly number[] | (() => readonly number[] | undefined)) {}

  start(intervalMs = 100): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
    return this;
  }

  /** Stops sampling; the peak in MB since start(). */
  stop(): number {
    this.sample();
    clearInterval(this.timer);
    return Math.round((this.peakKb / 1024) * 10) / 10;
  }

  private sample(): void {
    const pids = typeof this.pids === 'function' ? (this.pids() ?? []) : typeof this.pids === 'number' ? [this.pids] : this.pids;
    const kb = pids.reduce((sum, pid) => sum + rssKb(pid), 0);
    if (kb > this.peakKb) this.peakKb = kb;
  }
}

export function rssKb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * The Node flags of `npm run start:prod` (heap settings): the app is measured as it is deployed, and a
 * change to the production command reaches the benchmark without a second copy here.
 */
export function productionNodeFlags(): string[] {
  const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;
  const words = scripts['start:prod'].trim().split(/\s+/);
  return words.slice(1, words.indexOf('dist/main.js'));
}

export interface AppStartOptions {
  cpuProfDir?: string;
  /** A command the process runs under (valgrind, for the instructions phase). */
  wrapper?: string[];
}

/** The compiled app (`node <production flags> dist/main.js`) in its own process, with the benchmark's environment. */
export class AppProcess {
  output = '';
  private readonly exited: Promise<number | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    const keep = (chunk: Buffer) => {
      // Warnings and errors only (LOG_LEVEL=warn); keep the tail for error messages.
      this.output = (this.output + chunk.toString()).slice(-20_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  static async start(appDir: string, env: Record<string, string>, opts: AppStartOptions = {}): Promise<AppProcess> {
    const port = Number(env.PORT);
    const execArgs = [...productionNodeFlags(), ...(opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : [])];
    if (opts.cpuProfDir) mkdirSync(opts.cpuProfDir, { recursive: true });
    const [command, ...args] = [...(opts.wrapper ?? []), process.execPath, ...execArgs, join(appDir, 'main.js')];
    const child = killOnExit(
      spawn(command, args, {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const app = new AppProcess(child, port);
    await waitFor(
      `the app on port ${port} to be ready`,
      async () => {
        if (child.exitCode !== null) throw new Error(`app exited with ${child.exitCode}: ${app.output.slice(-2000)}`);
        const res = await fetch(`${app.url}/health/ready`).catch(() => undefined);
        return res?.status === 200;
      },
      // Under valgrind (the instructions phase) the app starts 20–40 times slower.
      { timeoutMs: opts.wrapper ? 300_000 : 90_000, intervalMs: 100 },
    ).catch((err: Error) => {
      child.kill('SIGKILL');
      throw err;
    });
    return app;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** SIGTERM (graceful: consumers commit, the relay finishes its batch), SIGKILL after 30 s. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The app as deployed for the benchmark: one process (APP_ROLE=all), or with `split` two, an
 * APP_ROLE=api process taking the HTTP load and an APP_ROLE=worker process running the consumers and
 * the webhook dispatcher. Memory figures are the processes' sum.
 */
export class AppDeployment {
  private constructor(readonly processes: AppProcess[]) {}

  static async start(appDir: string, env: Record<string, string>, opts: AppStartOptions & { split?: boolean } = {}): Promise<AppDeployment> {
    if (!opts.split) return new AppDeployment([await AppProcess.start(appDir, env, opts)]);
    const worker = await AppProcess.start(appDir, { ...env, APP_ROLE: 'worker', PORT: String(await freePort()) }, opts);
    try {
      return new AppDeployment([await AppProcess.start(appDir, { ...env, APP_ROLE: 'api' }, opts), worker]);
    } catch (err) {
      await worker.stop();
      throw err;
    }
  }

  /** Where the HTTP load goes. */
  get url(): string {
    return this.processes[0].url;
  }

  get pids(): number[] {
    return this.processes.map((p) => p.pid);
  }

  get output(): string {
    return this.processes.map((p) => p.output).join('\n');
  }

  /** Stops every process; the first non-zero exit code, else 0. */
  async stop(): Promise<number | null> {
    const codes = await Promise.all(this.processes.map((p) => p.stop()));
    return codes.find((c) => c !== 0) ?? 0;
  }
}

/**
 * A raw baseline (`bench/baselines/*.mjs`) in its own process, like the app. It reports over IPC:
 * `{ ready: true, ... }` once listening or connected, then whatever results it has been asked for.
 */
export class BaselineProcess {
  private readonly messages: Record<string, unknown>[] = [];
  private stderr = '';
  private readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    child.on('message', (m) => this.messages.push(m as Record<string, unknown>));
    child.stderr!.on('data', (c: Buffer) => (this.stderr = (this.stderr + c.toString()).slice(-10_000)));
    child.stdout!.on('data', () => undefined);
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  static async start(script: string, config: Record<string, unknown>, opts: { wrapper?: string[] } = {}): Promise<BaselineProcess> {
    // spawn with an IPC channel is fork, and also works through a wrapper (the channel's fd passes through valgrind).
    const [command, ...args] = [...(opts.wrapper ?? []), process.execPath, join(ROOT, 'bench/baselines', script), JSON.stringify(config)];
    const child = killOnExit(spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] }));
    const p = new BaselineProcess(child);
    await p.next('ready', opts.wrapper ? 180_000 : 60_000);
    return p;
  }

  get pid(): number {
    return this.child.pid!;
  }

  send(message: Record<string, unknown>): void {
    this.child.send(message);
  }

  /** The next message carrying `key` (removed from the queue). */
  async next<T = Record<string, unknown>>(key: string, timeoutMs: number): Promise<T> {
    return waitFor(
      `${this.child.spawnfile} to report "${key}"`,
      () => {
        if (this.child.exitCode !== null) throw new Error(`baseline exited with ${this.child.exitCode}: ${this.stderr.slice(-2000)}`);
        const i = this.messages.findIndex((m) => key in m);
        return i >= 0 ? (this.messages.splice(i, 1)[0] as T) : undefined;
      },
      { timeoutMs, intervalMs: 20 },
    );
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.send({ stop: true });
      const exited = await Promise.race([this.exited.then(() => true), sleep(10_000).then(() => false)]);
      if (!exited) this.child.kill('SIGKILL');
    }
    await this.exited;
  }
}
