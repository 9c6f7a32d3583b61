import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Instructions counted by valgrind's callgrind, for the `instructions` phase. Wall-clock figures on a
 * shared two-core machine move 10–25 % from run to run; the instructions a process executes for the
 * same requests move a few per cent, whatever else the machine is doing, so a change to the app's
 * request path can be compared with the one before it. The process runs about 50–100 times slower
 * under valgrind, so only a window of it is counted: instrumentation starts off and is switched on
 * and off around the measured requests (`callgrind_control`). Threads are counted apart: the first is
 * the event loop, which bounds a process's throughput; V8's optimizing compiler and most of its
 * garbage collector run on the others, and their share depends on how far the JIT has got.
 */
export class Callgrind {
  constructor(
    private readonly dir: string,
    private readonly name: string,
  ) {}

  /** Fails at once, naming what is missing, when valgrind is not installed. */
  static check(): void {
    for (const tool of ['valgrind', 'callgrind_control']) {
      const res = spawnSync(tool, ['--version'], { encoding: 'utf8' });
      if (res.error || res.status !== 0) throw new Error(`the instructions phase needs ${tool} (Debian package valgrind): ${res.error?.message ?? res.stderr}`);
    }
  }

  /** The command a process is started under: its own output file, nothing counted until `start`. */
  wrapper(): string[] {
    mkdirSync(this.dir, { recursive: true });
    return ['valgrind', '--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${join(this.dir, `${this.name}.%p.out`)}`];
  }

  /** Counts from now on. */
  start(pid: number): void {
    control(pid, '--instr=on');
  }

  /** Stops counting and returns the instructions counted since `start`: on the main thread, and on every thread. */
  stop(pid: number): ThreadCounts {
    control(pid, '--instr=off');
    control(pid, '--dump');
    // The first dump of a process goes to <out file>.1-<thread>; the process writes <out file>-<thread> itself on exit.
    const prefix = `${this.name}.${pid}.out.1-`;
    const dumps = readdirSync(this.dir).filter((f) => f.startsWith(prefix));
    const main = dumps.find((f) => Number(f.slice(prefix.length)) === 1);
    if (!main) throw new Error(`callgrind wrote no ${join(this.dir, `${prefix}01`)}`);
    const count = (file: string) => totalInstructions(readFileSync(join(this.dir, file), 'utf8'));
    return { mainThread: count(main), allThreads: dumps.reduce((sum, f) => sum + count(f), 0) };
  }
}

export interface ThreadCounts {
  mainThread: number;
  allThreads: number;
}

function control(pid: number, option: string): void {
  const res = spawnSync('callgrind_control', [option, String(pid)], { encoding: 'utf8', timeout: 60_000 });
  if (res.status !== 0) throw new Error(`callgrind_control ${option} ${pid} failed: ${res.error?.message ?? res.stderr ?? res.stdout}`);
}

/** The `totals:` line of a callgrind dump (instructions, the only event counted by default). */
export function totalInstructions(dump: string): number {
  const m = /^totals:\s+(\d+)/m.exec(dump);
  if (!m) throw new Error('no totals line in the callgrind dump');
  return Number(m[1]);
}
