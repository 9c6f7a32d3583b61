import { Backlog, BenchContext, drain, requireApp } from '../context';
import { autocannonOrders, ClosedLoopResult } from '../lib/load';
import { BaselineProcess, freePort, RssSampler } from '../lib/processes';
import { Percentiles, ratio, ratios } from '../lib/stats';

export interface WriteRun extends ClosedLoopResult {
  peakRssMb: number;
}

export interface WritePathLevel {
  concurrency: number;
  nestream: WriteRun & { backlog: Backlog };
  baseline: WriteRun;
  ratio: { rps: number; p50: number; p95: number; p99: number; peakRssMb: number };
}

export type WritePathResult = Record<string, WritePathLevel>;

/**
 * POST /orders at each concurrency: the app (relay and consumers running), then, once the app has
 * caught up with what that run produced, the raw single-statement server on the same database server.
 */
export async function measureWritePath(ctx: BenchContext): Promise<WritePathResult> {
  const port = await freePort();
  const raw = await BaselineProcess.start('raw-http-server.mjs', { port, databaseUrl: ctx.settings.rawDatabaseUrl, poolSize: ctx.settings.poolSize });
  const rawUrl = `http://127.0.0.1:${port}`;
  const { warmupMs, measureMs, requestsPerRun } = ctx.settings;
  const result: WritePathResult = {};
  try {
    for (const c of ctx.settings.concurrencies) {
      const length = requestsPerRun ? { requests: Math.max(requestsPerRun, 2 * c) } : { durationMs: measureMs };
      const app = requireApp(ctx);
      let sampler = new RssSampler(app.pids).start();
      const n = await autocannonOrders(app.url, c, warmupMs, length, ctx.userIds);
      const nPeak = sampler.stop();
      const backlog = await drain(ctx);
      ctx.log(`  c=${c} nestream: ${n.rps} req/s, p99 ${n.latency.p99} ms, ${n.errors} errors; behind by ${backlog.outboxAtEnd} outbox rows + ${backlog.lagAtEnd} records, ${backlog.skipped ? 'skipped' : `caught up in ${backlog.drainMs} ms`}`);

      sampler = new RssSampler(raw.pid).start();
      const b = await autocannonOrders(rawUrl, c, warmupMs, length, ctx.rawUserIds);
      const bPeak = sampler.stop();
      ctx.log(`  c=${c} raw:      ${b.rps} req/s, p99 ${b.latency.p99} ms, ${b.errors} errors`);

      result[`c${c}`] = {
        concurrency: c,
        nestream: { ...n, peakRssMb: nPeak, backlog },
        baseline: { ...b, peakRssMb: bPeak },
        ratio: { rps: ratio(n.rps, b.rps), ...ratios(n.latency, b.latency as Percentiles), peakRssMb: ratio(nPeak, bPeak) },
      };
    }
  } finally {
    await raw.stop();
  }
  return result;
}
