import { join } from 'node:path';
import { drain, requireApp, type BenchContext } from '../context';
import { Callgrind, ThreadCounts } from '../lib/callgrind';
import { autocannonOrders } from '../lib/load';
import { BaselineProcess, freePort } from '../lib/processes';
import { ratio, round } from '../lib/stats';

const CONNECTIONS = 16;

export interface InstructionCount {
  /** Orders answered 2xx in the counted window. */
  requests: number;
  errors: number;
  /** Every thread of the process (or processes). */
  instructions: number;
  /** Millions of instructions per answered order, every thread. */
  millionsPerRequest: number;
  /** The same on the main thread alone (the event loop; JIT compilation and most GC run on others). */
  mainThreadMillionsPerRequest: number;
  /** Every thread, by process: `all`, or with --split `api` (HTTP and the relay) and `worker` (the consumers). */
  byProcess: Record<string, number>;
}

export interface InstructionsResult {
  connections: number;
  warmupRequests: number;
  /** The app's count runs until the relay and every consumer have caught up: it is the whole cost of an order. */
  nestream: InstructionCount;
  baseline: InstructionCount;
  ratio: { perRequest: number; mainThreadPerRequest: number };
}

/** Where each process's callgrind files go, and the wrapper the app is started under for this phase. */
export function callgrindOf(outDir: string, runId: string, name: 'app' | 'raw'): Callgrind {
  return new Callgrind(join(outDir, 'callgrind', runId), name);
}

/**
 * POST /orders at 16 connections with the app and the raw server each under callgrind (the app was
 * started under it by run.ts): unmeasured requests, then the counted ones. Only instructions are
 * compared; the processes are far too slow under valgrind for their timings to mean anything.
 */
export async function measureInstructions(ctx: BenchContext): Promise<InstructionsResult> {
  const { instructionsWarmupRequests: warmup, instructionsRequests: requests } = ctx.settings;
  const app = requireApp(ctx);
  const appCounter = callgrindOf(ctx.settings.outDir, ctx.runId, 'app');
  const roles = ctx.settings.split ? ['api', 'worker'] : ['all'];
  const nestream = await count(appCounter, app.pids, roles, app.url, warmup, requests, ctx.userIds, async () => {
    const backlog = await drain(ctx);
    if (backlog.skipped) throw new Error('the app did not catch up with the counted orders: their count would miss part of their cost');
  });
  const parts = roles.length > 1 ? ` (${roles.map((r) => `${r} ${nestream.byProcess[r]}`).join(', ')})` : '';
  ctx.log(`  nestream: ${nestream.millionsPerRequest} M instructions per order${parts}, ${nestream.mainThreadMillionsPerRequest} M on the main thread (${nestream.requests} orders, ${nestream.errors} errors)`);

  const rawCounter = callgrindOf(ctx.settings.outDir, ctx.runId, 'raw');
  const port = await freePort();
  const raw = await BaselineProcess.start(
    'raw-http-server.mjs',
    { port, databaseUrl: ctx.settings.rawDatabaseUrl, poolSize: ctx.settings.poolSize },
    { wrapper: rawCounter.wrapper() },
  );
  try {
    const baseline = await count(rawCounter, [raw.pid], ['raw'], `http://127.0.0.1:${port}`, warmup, requests, ctx.rawUserIds);
    ctx.log(`  raw:      ${baseline.millionsPerRequest} M instructions per order, ${baseline.mainThreadMillionsPerRequest} M on the main thread (${baseline.requests} orders, ${baseline.errors} errors)`);
    return {
      connections: CONNECTIONS,
      warmupRequests: warmup,
      nestream,
      baseline,
      ratio: {
        perRequest: ratio(nestream.millionsPerRequest, baseline.millionsPerRequest),
        mainThreadPerRequest: ratio(nestream.mainThreadMillionsPerRequest, baseline.mainThreadMillionsPerRequest),
      },
    };
  } finally {
    await raw.stop();
  }
}

async function count(
  counter: Callgrind,
  pids: number[],
  names: string[],
  url: string,
  warmup: number,
  requests: number,
  userIds: number[],
  settle?: () => Promise<void>,
): Promise<InstructionCount> {
  await autocannonOrders(url, CONNECTIONS, 0, { requests: Math.max(warmup, CONNECTIONS) }, userIds);
  await settle?.();
  for (const pid of pids) counter.start(pid);
  let counted: ThreadCounts[] = [];
  let run: Awaited<ReturnType<typeof autocannonOrders>>;
  try {
    run = await autocannonOrders(url, CONNECTIONS, 0, { requests: Math.max(requests, CONNECTIONS) }, userIds);
    await settle?.();
  } finally {
    counted = pids.map((pid) => counter.stop(pid));
  }
  const perRequest = (n: number) => (run.requests > 0 ? round(n / run.requests / 1e6, 2) : Number.NaN);
  const instructions = counted.reduce((sum, c) => sum + c.allThreads, 0);
  return {
    requests: run.requests,
    errors: run.errors,
    instructions,
    millionsPerRequest: perRequest(instructions),
    mainThreadMillionsPerRequest: perRequest(counted.reduce((sum, c) => sum + c.mainThread, 0)),
    byProcess: Object.fromEntries(names.map((name, i) => [name, perRequest(counted[i].allThreads)])),
  };
}
