import autocannon = require('autocannon');
import { Pool } from 'undici';
import { percentiles, Percentiles, round } from './stats';
import { nowMs, sleep } from './time';

/** A POST /orders body: orders are spread over the users so no single user row takes every share lock. */
export function orderBody(userIds: number[], i: number, product = 'bench'): string {
  return JSON.stringify({ userId: userIds[i % userIds.length], product, amount: 10 + (i % 90) + 0.5, quantity: 1 + (i % 3) });
}

export interface ClosedLoopResult {
  requests: number;
  rps: number;
  latency: Percentiles;
  /** Connection errors, timeouts and non-2xx answers. */
  errors: number;
}

/** How long a closed-loop run lasts: a duration, or (smoke runs) a number of requests, whatever the time. */
export type RunLength = { durationMs: number } | { requests: number };

/**
 * POST /orders with autocannon at a fixed concurrency (closed loop: each connection sends its next
 * request when the answer arrives): an unrecorded warm-up, then the measured run. Latencies are
 * collected per answer (2xx only) so p95 is exact (autocannon's own summary has no p95). `measured`
 * is told when the measured run starts (after the warm-up).
 */
export async function autocannonOrders(
  baseUrl: string,
  connections: number,
  warmupMs: number,
  length: RunLength,
  userIds: number[],
  measured?: { start: () => void },
): Promise<ClosedLoopResult> {
  let i = 0;
  const run = (runLength: RunLength, latencies?: number[]) => {
    const instance = autocannon({
      url: baseUrl,
      connections,
      ...('requests' in runLength ? { amount: runLength.requests } : { duration: runLength.durationMs / 1000 }),
      timeout: 30,
      requests: [
        {
          method: 'POST',
          path: '/orders',
          headers: { 'content-type': 'application/json' },
          setupRequest: (req) => ({ ...req, body: orderBody(userIds, i++) }),
        },
      ],
    });
    if (latencies) {
      instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
        if (status >= 200 && status < 300) latencies.push(ms);
      });
    }
    return instance;
  };
  if (warmupMs > 0) await run({ durationMs: warmupMs });
  const latencies: number[] = [];
  measured?.start();
  const result = await run(length, latencies);
  return {
    requests: result['2xx'],
    rps: round(result['2xx'] / result.duration, 0),
    latency: percentiles(latencies),
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

export interface TimedWrite {
  /** When the request was due (open loop: its slot in the schedule) and when its answer arrived. */
  dueAt: number;
  respondedAt: number;
  status: number;
  id?: number;
}

export interface OpenLoopResult {
  offeredRate: number;
  achievedRate: number;
  writes: TimedWrite[];
  errors: number;
  latency: Percentiles;
}

/**
 * POST /orders at a fixed offered rate (open loop: requests go out on schedule whether or not earlier
 * ones have been answered), so a slow server shows up as latency rather than as a lower rate. Writes
 * of the warm-up are sent but not returned.
 */
export async function openLoopOrders(baseUrl: string, rate: number, warmupMs: number, measureMs: number, userIds: number[], product: string): Promise<OpenLoopResult> {
  const pool = new Pool(baseUrl, { connections: 128, pipelining: 1, keepAliveTimeout: 30_000 });
  const writes: TimedWrite[] = [];
  const pending: Promise<void>[] = [];
  let errors = 0;
  // Writes answered within the measured window, whatever their slot: an app behind answers warm-up
  // writes then too, and counting only the window's own would read as less throughput than it had.
  let answeredInWindow = 0;
  const start = nowMs();
  const measureFrom = start + warmupMs;
  const end = measureFrom + measureMs;
  let sent = 0;
  try {
    for (;;) {
      const now = nowMs();
      if (now >= end) break;
      // Every request whose slot has come, then a short sleep: ~1 ms scheduling error.
      const due = Math.floor(((now - start) * rate) / 1000);
      for (; sent < due; sent += 1) {
        const dueAt = start + (sent * 1000) / rate;
        const measured = dueAt >= measureFrom;
        const body = orderBody(userIds, sent, product);
        pending.push(
          pool
            .request({ method: 'POST', path: '/orders', headers: { 'content-type': 'application/json' }, body })
            .then(async (res) => {
              const respondedAt = nowMs();
              const text = await res.body.text();
              if (res.statusCode === 201 && respondedAt >= measureFrom && respondedAt <= end) answeredInWindow += 1;
              if (!measured) return;
              if (res.statusCode !== 201) errors += 1;
              const id = res.statusCode === 201 ? (JSON.parse(text).id as number) : undefined;
              writes.push({ dueAt, respondedAt, status: res.statusCode, id });
            })
            .catch(() => {
              if (measured) errors += 1;
            }),
        );
      }
      await sleep(1);
    }
    await Promise.all(pending);
  } finally {
    await pool.close();
  }
  const ok = writes.filter((w) => w.status === 201);
  return {
    offeredRate: rate,
    achievedRate: round((answeredInWindow * 1000) / measureMs, 0),
    writes: ok,
    errors,
    latency: percentiles(ok.map((w) => w.respondedAt - w.dueAt)),
  };
}

/** `count` POST /orders as fast as `concurrency` connections allow; the ids created. */
export async function closedLoopOrders(baseUrl: string, concurrency: number, count: number, userIds: number[], product: string): Promise<number[]> {
  const pool = new Pool(baseUrl, { connections: concurrency, pipelining: 1 });
  const ids: number[] = [];
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) {
          const i = next++;
          const res = await pool.request({ method: 'POST', path: '/orders', headers: { 'content-type': 'application/json' }, body: orderBody(userIds, i, product) });
          const text = await res.body.text();
          if (res.statusCode === 201) ids.push(JSON.parse(text).id);
        }
      }),
    );
  } finally {
    await pool.close();
  }
  return ids;
}
