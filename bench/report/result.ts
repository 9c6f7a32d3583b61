import type { EventLatencyResult } from '../phases/event-latency';
import type { IngestResult } from '../phases/ingest';
import type { InstructionsResult } from '../phases/instructions';
import type { FanoutResult } from '../phases/webhook-fanout';
import type { WritePathResult } from '../phases/write-path';
import { ratio, round } from '../lib/stats';
import { TARGETS } from '../settings';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  kafka: string;
  kafkaBroker: string;
  postgres: string;
  /** 1-minute load average when the run started and ended: how busy the machine was. */
  loadAverage: { start: number; end: number };
}

export interface TargetCheck {
  id: string;
  description: string;
  comparison: '>=' | '<=';
  target: number;
  /** null when the phase did not run or was skipped. */
  measured: number | null;
  unit: string;
  met: boolean | null;
  gap: string;
}

export interface MemoryResult {
  nestream: { peakRssMb: number; writePathPeakRssMb: number | null; perPhase: Record<string, number> };
  baseline: { rawHttpServerPeakRssMb: number | null; rawIngestPeakRssMb: number | null };
  ratio: { writePath: number | null };
}

export interface BenchResult {
  version: 1;
  mode: 'full' | 'smoke';
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  machine: Machine;
  settings: Record<string, unknown>;
  /** The harness's traffic before the first phase (BenchKafka.warmUp); absent when --broker-warmup-ms is 0. */
  brokerWarmup?: { durationMs: number; produced: number; consumed: number };
  ingest?: IngestResult;
  writePath?: WritePathResult;
  eventLatency?: EventLatencyResult;
  webhookFanout?: FanoutResult;
  /** Only when asked for (`--phases instructions`). */
  instructions?: InstructionsResult;
  memory: MemoryResult;
  targets: TargetCheck[];
}

function check(id: string, description: string, comparison: '>=' | '<=', target: number, measured: number | null | undefined, unit: string): TargetCheck {
  const value = measured === undefined || measured === null || !Number.isFinite(measured) ? null : measured;
  if (value === null) return { id, description, comparison, target, measured: null, unit, met: null, gap: 'not measured' };
  const met = comparison === '>=' ? value >= target : value <= target;
  const diff = round(Math.abs(value - target), unit === '×' ? 2 : 1);
  const pct = Math.round((Math.abs(value - target) / target) * 100);
  const gap =
    comparison === '>='
      ? met
        ? `met, ${pct}% above`
        : `missed: ${diff} ${unit} short (${pct}% below)`
      : met
        ? `met, ${pct}% under`
        : `missed: ${diff} ${unit} over (${pct}% above)`;
  return { id, description, comparison, target, measured: value, unit, met, gap };
}

/** The targets against this run's figures. */
export function checkTargets(r: Omit<BenchResult, 'targets'>): TargetCheck[] {
  const c64 = r.writePath?.c64;
  const at1000 = r.eventLatency?.levels.r1000;
  return [
    check('write.c64.throughput', 'write path at c=64: Nestream req/s ÷ raw baseline req/s', '>=', TARGETS.writeThroughputRatioC64, c64?.ratio.rps, '×'),
    check('write.c64.p99', 'write path at c=64: Nestream p99 ÷ raw baseline p99', '<=', TARGETS.writeP99RatioC64, c64?.ratio.p99, '×'),
    check('latency.1000.consumer.p99', 'event latency at 1,000 writes/s: commit → consumer p99', '<=', TARGETS.consumerP99MsAt1000, at1000?.nestream.consumer.p99, 'ms'),
    check('latency.1000.webhook.p99', 'event latency at 1,000 writes/s: commit → webhook p99', '<=', TARGETS.webhookP99MsAt1000, at1000?.nestream.webhook?.p99, 'ms'),
    check('ingest.rate', 'ingest: events stored per second', '>=', TARGETS.ingestEventsPerSecond, r.ingest?.nestream.eventsPerSecond, 'events/s'),
    check('ingest.ratio', 'ingest: Nestream ÷ raw kafkajs eachBatch consumer', '>=', TARGETS.ingestRatio, r.ingest?.ratio.eventsPerSecond, '×'),
    check('fanout.rate', 'webhook fan-out, orders POSTed meanwhile: signed deliveries/s', '>=', TARGETS.fanoutDeliveriesPerSecond, r.webhookFanout?.nestream?.deliveriesPerSecond, 'deliveries/s'),
    // The same target for the fan-out path alone: the events already on the topic, no HTTP load.
    check('fanout.fromTopic.rate', 'webhook fan-out, events already on the topic: signed deliveries/s', '>=', TARGETS.fanoutDeliveriesPerSecond, r.webhookFanout?.fromTopic?.deliveriesPerSecond, 'deliveries/s'),
    check('memory.write', 'app peak RSS under write-path load', '<=', TARGETS.writeRssMb, r.memory.nestream.writePathPeakRssMb, 'MB'),
  ];
}

/** Peak RSS of the app in each phase, and of the raw baselines beside it. */
export function memoryOf(r: Pick<BenchResult, 'writePath' | 'eventLatency' | 'ingest' | 'webhookFanout'>, overallPeakMb: number, latencyPeakMb: number | null): MemoryResult {
  const perPhase: Record<string, number> = {};
  const writeLevels = Object.values(r.writePath ?? {});
  for (const level of writeLevels) perPhase[`writePath.c${level.concurrency}`] = level.nestream.peakRssMb;
  if (r.ingest) perPhase.ingest = r.ingest.nestream.peakRssMb;
  if (latencyPeakMb !== null) perPhase.eventLatency = latencyPeakMb;
  if (r.webhookFanout?.nestream) perPhase.webhookFanout = r.webhookFanout.nestream.peakRssMb;
  const writePeak = writeLevels.length ? Math.max(...writeLevels.map((l) => l.nestream.peakRssMb)) : null;
  const rawHttp = writeLevels.length ? Math.max(...writeLevels.map((l) => l.baseline.peakRssMb)) : null;
  return {
    // The last process's VmHWM, or a phase's sampled peak in an earlier process (restarts skip backlogs).
    nestream: { peakRssMb: Math.max(overallPeakMb, ...Object.values(perPhase)), writePathPeakRssMb: writePeak, perPhase },
    baseline: { rawHttpServerPeakRssMb: rawHttp, rawIngestPeakRssMb: r.ingest?.baseline.peakRssMb ?? null },
    ratio: { writePath: writePeak !== null && rawHttp !== null ? ratio(writePeak, rawHttp) : null },
  };
}
