import { AsyncLocalStorage } from 'node:async_hooks';
import { randomFillSync } from 'node:crypto';

/** W3C Trace Context: one trace follows an order from the HTTP request to the consumer and the webhook. */
export interface TraceContext {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

const storage = new AsyncLocalStorage<TraceContext>();
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export const TRACEPARENT_HEADER = 'traceparent';

/** Parses a `traceparent` header; undefined when absent or malformed (all-zero ids are invalid). */
export function parseTraceparent(value: string | undefined): TraceContext | undefined {
  const m = value ? TRACEPARENT.exec(value.trim().toLowerCase()) : null;
  if (!m || /^0+$/.test(m[1]) || /^0+$/.test(m[2])) return undefined;
  return { traceId: m[1], spanId: m[2], sampled: (parseInt(m[3], 16) & 1) === 1 };
}

export function formatTraceparent(ctx: TraceContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${ctx.sampled ? '01' : '00'}`;
}

/** A new span of the given trace, or the root span of a new trace. */
export function childOf(parent: TraceContext | undefined): TraceContext {
  return {
    traceId: parent?.traceId ?? randomId(16),
    spanId: randomId(8),
    sampled: parent?.sampled ?? true,
  };
}

// Every consumed record opens a span per consumer: ids come from a pool of random bytes refilled a few
// kilobytes at a time (a system call each time the pool runs out, not one per id; 5 % of the CPU before).
const pool = Buffer.alloc(4096);
let poolUsed = pool.length;

/** Random lowercase hex of `bytes` bytes, never all zeros (an invalid trace or span id). */
function randomId(bytes: number): string {
  for (;;) {
    if (poolUsed + bytes > pool.length) {
      randomFillSync(pool);
      poolUsed = 0;
    }
    const id = pool.toString('hex', poolUsed, poolUsed + bytes);
    poolUsed += bytes;
    if (!/^0+$/.test(id)) return id;
  }
}

export function runInTrace<T>(ctx: TraceContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

export function currentTrace(): TraceContext | undefined {
  return storage.getStore();
}

/** The header to send downstream (Kafka record, webhook request): a child span of the current trace. */
export function outgoingTraceparent(): string {
  return formatTraceparent(childOf(currentTrace()));
}
