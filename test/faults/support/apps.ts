import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppProcess } from '../../support/app-process';

/**
 * Settings of an app instance under test: its consumer groups' prefix (one per scenario, the groups
 * moved to the end of the topics first), a short shutdown deadline, a closer consumer watchdog, and analytics rules that stay
 * quiet under a burst of orders in one minute, so a fault test publishes no anomalies to the shared
 * broker. FAULTS_APP_LOG_LEVEL (default warn) sets the instances' LOG_LEVEL, for a closer look.
 */
export function appEnv(groupId: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_GROUP_ID: groupId,
    LOG_LEVEL: process.env.FAULTS_APP_LOG_LEVEL ?? 'warn',
    SHUTDOWN_TIMEOUT_MS: '15000',
    // A partition kafkajs stops fetching is restarted well inside the scenarios' settle deadline.
    KAFKA_STALL_RESTART_MS: '20000',
    ANALYTICS_ORDERS_PER_WINDOW_CEILING: '0',
    ANALYTICS_ORDERS_SPIKE_MIN_ORDERS: '100000000',
    ...extra,
  };
}

/** Starts instances side by side (same database and group, each its own port) and waits until all are ready. */
export function startInstances(count: number, env: Record<string, string>): Promise<AppProcess[]> {
  return Promise.all(Array.from({ length: count }, () => AppProcess.start(env)));
}

/**
 * SIGTERM to every instance still running; waits for them to exit and keeps what each logged in
 * test-artifacts/faults/<scenario>-<n>.log, for a look after a failure.
 */
export async function stopInstances(scenario: string, apps: (AppProcess | undefined)[]): Promise<void> {
  await Promise.all(apps.map((app) => app?.stop('SIGTERM')));
  const dir = join(__dirname, '../../../test-artifacts/faults');
  mkdirSync(dir, { recursive: true });
  apps.forEach((app, i) => app && writeFileSync(join(dir, `${scenario}-${i + 1}.log`), `${app.stdout}\n${app.stderr}`));
}

/** How many times an instance's watchdog restarted its consumer (see ConsumerWatchdog). */
export function consumerRestarts(app: AppProcess | undefined): number {
  return app?.logLines().filter((l) => String(l.msg).startsWith('restarting the consumer:')).length ?? 0;
}

/** How many times an instance sent a partition back to records its consumer's position had moved past (see SkipGuard). */
export function skipsSentBack(app: AppProcess | undefined): number {
  return app?.logLines().filter((l) => String(l.msg).includes('this instance never handled')).length ?? 0;
}

/** How many times kafkajs gave up on a call, crashed a consumer and restarted it (of one group: its lines name it). */
export function consumerCrashes(app: AppProcess | undefined, groupId?: string): number {
  return app?.logLines().filter((l) => String(l.msg).startsWith('Crash: ') && (!groupId || String(l.msg).includes(`"groupId":"${groupId}"`))).length ?? 0;
}

/**
 * The last lines an instance wrote to stderr and its warnings, for a failure message. A run of lines
 * with the same message (a broker's connection errors, every 50 ms) counts as one.
 */
export function lastWords(app: AppProcess | undefined, lines = 15): string {
  if (!app) return '';
  const runs: { line: string; msg: string; repeats: number }[] = [];
  for (const line of `${app.stdout}\n${app.stderr}`.trim().split('\n')) {
    const msg = messageOf(line);
    const last = runs[runs.length - 1];
    if (last && last.msg === msg) last.repeats += 1;
    else runs.push({ line, msg, repeats: 1 });
  }
  return runs
    .slice(-lines)
    .map((r) => (r.repeats > 1 ? `${r.line} (and ${r.repeats - 1} more like it)` : r.line))
    .join('\n');
}

function messageOf(line: string): string {
  try {
    return String((JSON.parse(line) as { msg?: unknown }).msg ?? line);
  } catch {
    return line;
  }
}
