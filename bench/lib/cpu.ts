import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { round } from './stats';

/**
 * CPU time each part of the stack spent during a run, from the kernel's counters: utime + stime of
 * every process of a part (/proc/<pid>/stat), and the machine's busy share (/proc/stat).
 *
 * Why counters and not only `--cpu-prof`: V8's profiler samples wall time, so a thread the scheduler
 * took off the CPU right after a socket write (Postgres, woken by the write, runs in its place on
 * two cores) is counted as time "in" writev. These counters say what each process really used.
 *
 * Parts: `app` (the given pids), `postgres` (every process named postgres: backends, WAL writer,
 * checkpointer, autovacuum), `kafka` (every JVM running kafka.Kafka), `harness` (this process: the
 * load generator and the webhook receiver), `baseline` (a raw baseline's pid, when given). A process
 * that ends during the run is not counted; one that starts during it counts from its start.
 */
export type CpuPart = 'app' | 'postgres' | 'kafka' | 'harness' | 'baseline';

export interface CpuUse {
  /** CPU milliseconds per unit of work (per request, per event), by part. */
  msPerUnit: Partial<Record<CpuPart, number>>;
  /** The machine's busy time over the run, in % of all its cores together. */
  machineBusyPercent: number;
  /** The cores' capacity over the run, in CPU milliseconds per unit: what msPerUnit can add up to. */
  capacityMsPerUnit: number;
}

const TICKS_PER_SECOND = ticksPerSecond();

export class CpuMeter {
  private startTicks = new Map<number, number>();
  private startMachine = { total: 0, idle: 0 };
  private startedAt = 0;

  constructor(private readonly pids: { app?: () => readonly number[]; baseline?: number }) {}

  start(): this {
    this.startTicks = new Map([...this.snapshot()].map(([pid, s]) => [pid, s.ticks]));
    this.startMachine = machineTicks();
    this.startedAt = Date.now();
    return this;
  }

  /** CPU used since start(), per unit of work (`units` of them were done meanwhile). */
  stop(units: number): CpuUse {
    const elapsedMs = Date.now() - this.startedAt;
    const byPart: Partial<Record<CpuPart, number>> = {};
    for (const [pid, { part, ticks }] of this.snapshot()) {
      const used = ticks - (this.startTicks.get(pid) ?? 0);
      byPart[part] = (byPart[part] ?? 0) + used;
    }
    const machine = machineTicks();
    const total = machine.total - this.startMachine.total;
    const busy = total - (machine.idle - this.startMachine.idle);
    const perUnit = (ms: number) => (units > 0 ? round(ms / units, 3) : NaN);
    const msPerUnit: Partial<Record<CpuPart, number>> = {};
    for (const [part, ticks] of Object.entries(byPart) as [CpuPart, number][]) msPerUnit[part] = perUnit((ticks * 1000) / TICKS_PER_SECOND);
    return {
      msPerUnit,
      machineBusyPercent: total > 0 ? round((100 * busy) / total, 0) : NaN,
      capacityMsPerUnit: perUnit(elapsedMs * cpus().length),
    };
  }

  private snapshot(): Map<number, { part: CpuPart; ticks: number }> {
    const parts = new Map<number, CpuPart>();
    for (const pid of this.pids.app?.() ?? []) parts.set(pid, 'app');
    if (this.pids.baseline !== undefined) parts.set(this.pids.baseline, 'baseline');
    parts.set(process.pid, 'harness');
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid) || parts.has(pid)) continue;
      const part = serverPart(pid);
      if (part) parts.set(pid, part);
    }
    const result = new Map<number, { part: CpuPart; ticks: number }>();
    for (const [pid, part] of parts) {
      const ticks = processTicks(pid);
      if (ticks !== undefined) result.set(pid, { part, ticks });
    }
    return result;
  }
}

/** CPU per unit of the whole stack: the server (app or raw baseline), Postgres and Kafka; not the load generator. */
export function cpuTotal(cpu: CpuUse): number {
  const { app = 0, baseline = 0, postgres = 0, kafka = 0 } = cpu.msPerUnit;
  return round(app + baseline + postgres + kafka, 3);
}

function serverPart(pid: number): CpuPart | undefined {
  try {
    if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') return 'postgres';
    // The JVM's name is java; the broker is told apart by its main class.
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('\0kafka.Kafka\0')) return 'kafka';
  } catch {
    // Gone meanwhile, or not ours to read.
  }
  return undefined;
}

/** utime + stime, in clock ticks (fields 14 and 15; the name in field 2 may hold spaces, so count after it). */
function processTicks(pid: number): number | undefined {
  try {
    return ticksOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

function ticksOfStat(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** The machine's total and idle (idle + iowait) clock ticks since boot, over all cores. */
function machineTicks(): { total: number; idle: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  // user nice system idle iowait irq softirq steal (guest time is already in user and nice)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number);
  return { total: user + nice + system + idle + iowait + irq + softirq + (steal ?? 0), idle: idle + iowait };
}

function ticksPerSecond(): number {
  const res = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(res.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
}
