import { Backlog, BenchContext, drain, requireApp } from '../context';
import { CpuMeter, CpuUse, cpuTotal } from '../lib/cpu';
import { autocannonOrders, ClosedLoopResult } from '../lib/load';
import { BaselineProcess, freePort, RssSampler } from '../lib/processes';
import { Percentiles, ratio, ratios } from '../lib/stats';

export interface WriteRun extends ClosedLoopResult {
  peakRssMb: number;
  /** CPU per answered request, by process (the app or the raw server, Postgres, Kafka, the load generator). */
  cpu: CpuUse;
}

export interface WritePathLevel {
  concurrency: number;
  nestream: WriteRun & { backlog: Backlog };
  baseline: WriteRun;
  ratio: { rps: number; p50: number; p95: number; p99: number; peakRssMb: number; cpuMsPerRequest: number };
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
      let meter = new CpuMeter({ app: () => app.pids });
      const n = await autocannonOrders(app.url, c, warmupMs, length, ctx.userIds, meter);
      const nCpu = meter.stop(n.requests);
      const nPeak = sampler.stop();
      const backlog = await drain(ctx);
      ctx.log(`  c=${c} nestream: ${n.rps} req/s, p99 ${n.latency.p99} ms, ${n.errors} errors; behind by ${backlog.outboxAtEnd} outbox rows + ${backlog.lagAtEnd} records, ${backlog.skipped ? 'skipped' : `caught up in ${backlog.drainMs} ms`}`);

      sampler = new RssSampler(raw.pid).start();
      meter = new CpuMeter({ baseline: raw.pid });
      const b = await autocannonOrders(rawUrl, c, warmupMs, length, ctx.rawUserIds, meter);
      const bCpu = meter.stop(b.requests);
      const bPeak = sampler.stop();
      ctx.log(`  c=${c} raw:      ${b.rps} req/s, p99 ${b.latency.p99} ms, ${b.errors} errors`);

      result[`c${c}`] = {
        concurrency: c,
        nestream: { ...n, peakRssMb: nPeak, cpu: nCpu, backlog },
        baseline: { ...b, peakRssMb: bPeak, cpu: bCpu },
        ratio: {
          rps: ratio(n.rps, b.rps),
          ...ratios(n.latency, b.latency as Percentiles),
          peakRssMb: ratio(nPeak, bPeak),
          cpuMsPerRequest: ratio(cpuTotal(nCpu), cpuTotal(bCpu)),
        },
      };
    }
  } finally {
    await raw.stop();
  }
  return result;
}
