import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { KafkaContext } from '@nestjs/microservices';
import { DataSource, EntityManager } from 'typeorm';
import { appConfig, AppConfig } from '../../config/app.config';
import { EventType, readEventPayload, schemaVersionOf } from '../../events';
import { childOf, parseTraceparent, runInTrace, TraceContext, TRACEPARENT_HEADER } from '../../common/tracing/trace-context';
import { readEnvelope, ReceivedMetadata, recordId } from '../envelope';
import { KafkaBatchContext, KafkaMessage, messagesOf } from '../kafka/kafka-batch-context';
import { Metrics } from '../../observability/metrics';
import { isDatabaseUnavailable } from '../../persistence/database-unavailable';
import { openBeforeCommit, runBeforeCommit, withBeforeCommit } from '../../persistence/transaction-hooks';
import { ANY_CONSUMER, DeadLetterService } from './dead-letter.service';

export interface ConsumedEvent<T> {
  type: EventType;
  /** `ce_id` when the producer set one, else the record's coordinates and timestamp (see recordId). */
  id: string;
  /** The payload read as the current schema version of its type (upcast when written with an older one). */
  payload: T;
  /** The payload exactly as received, and the schema version it was written with (`ce_dataschema`, else 1). */
  receivedPayload: Record<string, unknown>;
  schemaVersion: number;
  metadata: ReceivedMetadata;
  /** True when Nestream itself produced the event (its `ce_source` is ours). */
  isOwn: boolean;
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  /** Time the event happened: `ce_time` if given, else the record's timestamp. */
  occurredAt: Date;
}

/** Thrown by a handler for a message that can never succeed: it is dead-lettered without retries. */
export class UnprocessableEventError extends Error {}

type Effect<T> = (event: ConsumedEvent<T>, em: EntityManager) => Promise<void>;

export interface HandleOptions<T> {
  /**
   * Events this consumer has nothing to do for (the ingest consumer and Nestream's own events): once
   * read and validated, they are counted as `ignored` and resolved with no transaction and no inbox
   * row, since an effect that changes nothing needs no exactly-once bookkeeping.
   */
  ignore?: (event: ConsumedEvent<T>) => boolean;
}

/**
 * The one consumer pipeline every `@EventPattern` handler goes through: parse the value, validate it
 * against the schema version it names and upcast it to the current one, run the effect exactly once
 * per consumer (inbox row in the same transaction), retry failures with backoff a bounded number of
 * times, then dead-letter. Records that arrive together share one transaction per consumer (group
 * commit: one commit instead of one per record). It never throws for a bad message, so a
 * partition never stalls and the process never crashes on one.
 */
@Injectable()
export class EventConsumer implements OnModuleDestroy {
  private readonly logger = new Logger(EventConsumer.name);
  /** Records waiting for their consumer's next transaction, by consumer name. */
  private readonly queues = new Map<string, Work[]>();
  private readonly draining = new Set<string>();
  /** Each record as read once for the consumers of its topic in one consumer group (see readOnce), forgotten with the record. */
  private readonly records = new WeakMap<object, RecordRead>();
  /** The per-record debug line is built only when it is written (five consumers per record while ingesting). */
  private readonly debugLogs: boolean;
  /** The app is closing: a record waiting out a database outage gives up (see applyAlone). */
  private stopping = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly deadLetters: DeadLetterService,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {
    this.debugLogs = DEBUG_LEVELS.has(config.http.logLevel);
  }

  /** Nest calls it before it closes the consumers, which wait for the batches in flight. */
  onModuleDestroy(): void {
    this.stopping = true;
  }

  /**
   * Runs `effect` once per record of `ctx` (a chunk from BatchingKafkaServer, or one record) for
   * `consumer`. Resolves when every record is applied, set aside or ignored; rejects when one could
   * not be (it is delivered again), after telling a chunk's context which one.
   */
  handle<T>(consumer: string, type: EventType, ctx: KafkaContext, effect: Effect<T>, options: HandleOptions<T> = {}): Promise<void> {
    const messages = messagesOf(ctx);
    const topic = ctx.getTopic();
    const partition = ctx.getPartition();
    return new Promise((resolve, reject) => {
      // One promise per call, not per record: a chunk of hundreds of records goes to five consumers.
      let pending = messages.length + 1;
      let failure: { reason: unknown } | undefined;
      const settledOne = () => {
        pending -= 1;
        if (pending > 0) return;
        if (failure) reject(failure.reason);
        else resolve();
      };
      let queued = false;
      messages.forEach((message, index) => {
        // A record may be settled twice on a fallback path (resolved, then failed with its batch); the
        // first word stands, or the chunk would settle while some of its records are still being applied.
        let settled = false;
        const done = () => {
          if (settled) return;
          settled = true;
          settledOne();
        };
        const failed = (reason: unknown) => {
          if (settled) return;
          settled = true;
          if (ctx instanceof KafkaBatchContext) ctx.recordFailed(index, reason);
          failure ??= { reason };
          settledOne();
        };
        try {
          const record = this.readOnce(message, topic, partition, type);
          // Each consumer's work on the record is a span of the trace of the request that produced it; logs
          // written meanwhile carry it.
          const trace = childOf(record.received.parentTrace);
          if (!record.ok) {
            const where = { topic, partition, message, received: record.received };
            runInTrace(trace, () => this.setAside(where, consumer, ANY_CONSUMER, record.reason, 0)).then(done, failed);
            return;
          }
          const event = record.event as ConsumedEvent<T>;
          if (options.ignore?.(event)) {
            this.metrics.eventConsumed(event.topic, consumer, 'ignored');
            done();
            return;
          }
          this.queueOf(consumer).push({ event, effect: effect as Effect<unknown>, ctx, message, received: record.received, trace, resolve: done, reject: failed });
          queued = true;
        } catch (err) {
          // A bug reading this record: it alone fails, and is delivered again.
          failed(err);
        }
      });
      if (queued) this.schedule(consumer);
      settledOne();
    });
  }

  /**
   * Reads the record once for the consumers of its topic in one consumer group (a group's server calls
   * them all with the same message; each group fetches, and so reads, its own copy):
   * headers and envelope, then the value parsed, validated against the schema version it names and
   * upcast. The event is shared between the consumers, so effects must not change it.
   */
  private readOnce(message: KafkaMessage, topic: string, partition: number, type: EventType): RecordRead {
    const cached = this.records.get(message);
    if (cached?.type === type) return cached;
    const received = receive(message);
    const read = readRecord(type, received.value, received.metadata.dataschema);
    const record: RecordRead = read.ok ? { ok: true, type, received, event: this.eventOf(message, topic, partition, type, received, read) } : { ...read, type, received };
    this.records.set(message, record);
    return record;
  }

  private eventOf(message: KafkaMessage, topic: string, partition: number, type: EventType, received: Received, read: PayloadRead): ConsumedEvent<unknown> {
    const { metadata } = received;
    return {
      type,
      id: metadata.id ?? recordId(topic, partition, message.offset, message.timestamp),
      payload: read.payload,
      receivedPayload: read.received,
      schemaVersion: read.schemaVersion,
      metadata,
      isOwn: metadata.source?.startsWith(`${this.config.events.source}/`) ?? false,
      topic,
      partition,
      offset: message.offset,
      key: message.key == null ? null : String(message.key),
      occurredAt: validDate(metadata.time) ?? new Date(Number(message.timestamp)),
    };
  }

  /** Dead-letters the record for `who` (one consumer, or any), counted as `consumer`'s outcome. */
  private setAside({ topic, partition, message, received }: RecordAt, consumer: string, who: string, reason: string, attempts: number): Promise<void> {
    this.metrics.eventConsumed(topic, consumer, 'dead_lettered');
    return this.deadLetters.setAside({
      consumer: who,
      topic,
      partition,
      offset: message.offset,
      timestamp: message.timestamp,
      key: message.key == null ? null : String(message.key),
      value: received.value,
      headers: received.headers,
      reason,
      attempts,
    });
  }

  private queueOf(consumer: string): Work[] {
    let queue = this.queues.get(consumer);
    if (!queue) this.queues.set(consumer, (queue = []));
    return queue;
  }

  /**
   * Group commit: records handed out together (a fetched batch, several partitions) reach this queue in
   * the same turn of the event loop; the next turn applies them. One drain per consumer at a time, so a
   * consumer's transactions never overlap and a partition's records are applied in offset order.
   */
  private schedule(consumer: string): void {
    if (this.draining.has(consumer)) return;
    this.draining.add(consumer);
    setImmediate(() => void this.drain(consumer));
  }

  private async drain(consumer: string): Promise<void> {
    const queue = this.queueOf(consumer);
    // By partition: the offset of a record that failed unapplied in this drain (see rejectedAfterEarlierFailure).
    const halted = new Map<string, bigint>();
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, this.config.consumers.batchSize).sort(byPosition);
        await this.applyBatch(consumer, batch, halted).catch((err: unknown) => {
          // A bug, not a bad record: fail the batch's records (they are delivered again), keep the process.
          this.logger.error(`${consumer}: applying a batch failed: ${describe(err)}`);
          for (const work of batch) {
            // Later records of these partitions must wait for them (see rejectedAfterEarlierFailure).
            const at = BigInt(work.event.offset);
            const earlier = halted.get(partitionOf(work));
            if (earlier === undefined || at < earlier) halted.set(partitionOf(work), at);
            work.reject(err);
          }
        });
      }
    } finally {
      this.draining.delete(consumer);
      // Work queued by a caller that saw this drain running just before it finished.
      if (queue.length > 0) this.schedule(consumer);
    }
  }

  /**
   * Applies every record of the batch and claims them in the inbox, all in one transaction. If an effect
   * throws, the transaction rolls back as a whole; the records before it are applied again as a batch,
   * the failing one on its own (with its retries and dead-lettering), the rest as a batch again. If the
   * transaction fails otherwise (the commit, the database), every record is applied on its own.
   */
  private async applyBatch(consumer: string, records: Work[], halted: Map<string, bigint>): Promise<void> {
    const batch = records.filter((work) => !rejectedAfterEarlierFailure(halted, work));
    if (batch.length > 1) {
      let failedAt: number | undefined;
      try {
        const outcomes = await this.dataSource.transaction(async (em) => {
          const rows: { message_id: string }[] = await em.query(
            `INSERT INTO inbox (consumer, message_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING RETURNING message_id`,
            [consumer, batch.map((w) => w.event.id)],
          );
          const claimed = new Set(rows.map((r) => r.message_id));
          const result: Outcome[] = [];
          openBeforeCommit(em);
          for (const work of batch) {
            // Not claimed: processed before (a redelivery), or a second copy of a record in this batch.
            if (!claimed.delete(work.event.id)) {
              result.push('duplicate');
              continue;
            }
            failedAt = result.length;
            await runInTrace(work.trace, () => work.effect(work.event, em));
            failedAt = undefined;
            result.push('processed');
          }
          await runBeforeCommit(em);
          return result;
        });
        batch.forEach((work, i) => {
          this.recordOutcome(consumer, work, outcomes[i]);
          work.resolve();
        });
        return;
      } catch (err) {
        this.logger.debug(`${consumer}: batch of ${batch.length} rolled back at record ${failedAt ?? '-'}: ${describe(err)}`);
      }
      if (failedAt !== undefined) {
        // A record that fails now often succeeds a moment later (an order the ingest consumer has not
        // committed yet): only it pays for the retries.
        await this.applyBatch(consumer, batch.slice(0, failedAt), halted);
        await this.applyBatch(consumer, [batch[failedAt]], halted);
        await this.applyBatch(consumer, batch.slice(failedAt + 1), halted);
        return;
      }
    }
    for (const work of batch) {
      if (rejectedAfterEarlierFailure(halted, work)) continue;
      await runInTrace(work.trace, () => this.applyAlone(consumer, work)).then(work.resolve, (err: unknown) => {
        halted.set(partitionOf(work), BigInt(work.event.offset));
        work.reject(err);
      });
    }
  }

  private recordOutcome(consumer: string, { event, trace }: Work, outcome: Outcome): void {
    this.metrics.eventConsumed(event.topic, consumer, outcome);
    if (!this.debugLogs) return;
    runInTrace(trace, () => this.logger.debug(`${consumer}: handled ${event.type} ${event.id} from ${event.topic}[${event.partition}]@${event.offset}`));
  }

  /** One record in its own transaction: retried with backoff, then dead-lettered; waits out database outages. */
  private async applyAlone(consumer: string, work: Work): Promise<void> {
    const { event, effect, ctx } = work;
    const { maxAttempts, retryBackoffMs } = this.config.consumers;
    let outage = 0;
    for (let attempt = 1; ; attempt += 1) {
      try {
        const outcome = await this.dataSource.transaction(async (em) => {
          const claimed: unknown[] = await em.query(
            `INSERT INTO inbox (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`,
            [consumer, event.id],
          );
          // Already processed by this consumer: a redelivery changes nothing.
          if (claimed.length === 0) return 'duplicate' as const;
          await withBeforeCommit(em, () => effect(event, em));
          return 'processed' as const;
        });
        this.recordOutcome(consumer, work, outcome);
        return;
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        if (isDatabaseUnavailable(err)) {
          // Closing: waiting for the database would hold the shutdown for as long as the outage lasts.
          // Failed unapplied, the record is not committed, and the partition's next owner gets it.
          if (this.stopping) throw err;
          // Not the message's fault: wait for the database (the partition waits too, as it must) and
          // do not spend the message's attempts; dead-lettering now would set aside a good event.
          attempt -= 1;
          outage += 1;
          if (outage === 1 || outage % 20 === 0) this.logger.warn(`${consumer}: database unavailable, waiting to retry: ${reason}`);
          await heartbeat(ctx);
          await delay(Math.min(OUTAGE_MAX_BACKOFF_MS, retryBackoffMs * 2 ** Math.min(outage, 6)));
          continue;
        }
        if (err instanceof UnprocessableEventError || attempt >= maxAttempts) {
          this.logger.warn(`${consumer}: ${event.topic}[${event.partition}]@${event.offset} dead-lettered after ${attempt} attempt(s): ${reason}`);
          return this.setAside({ topic: event.topic, partition: event.partition, message: work.message, received: work.received }, consumer, consumer, reason, attempt);
        }
        this.metrics.eventConsumed(event.topic, consumer, 'retried');
        await heartbeat(ctx);
        await delay(retryBackoffMs * 2 ** (attempt - 1));
      }
    }
  }
}

type Outcome = 'processed' | 'duplicate';

interface PayloadRead {
  ok: true;
  received: Record<string, unknown>;
  schemaVersion: number;
  payload: unknown;
}

/** A record as the consumers of its topic see it: its event, or why it can never be one. */
type RecordRead = { type: EventType; received: Received } & ({ ok: true; event: ConsumedEvent<unknown> } | { ok: false; reason: string });

/** The value as JSON, validated against the schema version it was written with, read as the current one. */
function readRecord(type: EventType, value: Buffer | null, dataschema: string | undefined): PayloadRead | { ok: false; reason: string } {
  const parsed = parseValue(value);
  if (!parsed.ok) return parsed;
  const schema = schemaVersionOf(type, dataschema);
  if (!schema.ok) return schema;
  const read = readEventPayload(type, parsed.value, schema.version);
  if (!read.ok) return read;
  return { ok: true, received: parsed.value, schemaVersion: schema.version, payload: read.payload };
}

/** What every consumer of a record reads from it the same way; shared, so never changed. */
interface Received {
  headers: Record<string, string>;
  metadata: ReceivedMetadata;
  value: Buffer | null;
  parentTrace: TraceContext | undefined;
}

/** A record and where it was read, for dead-lettering it. */
interface RecordAt {
  topic: string;
  partition: number;
  message: KafkaMessage;
  received: Received;
}

/** The record's headers, envelope and value. */
function receive(message: KafkaMessage): Received {
  const headers = stringHeaders(message.headers as Record<string, unknown>);
  const value = Buffer.isBuffer(message.value) ? message.value : message.value == null ? null : Buffer.from(String(message.value));
  return { headers, metadata: readEnvelope(headers), value, parentTrace: parseTraceparent(headers[TRACEPARENT_HEADER]) };
}

const DEBUG_LEVELS = new Set(['debug', 'trace']);

/** A record waiting for its consumer's next transaction, and the caller waiting for it. */
interface Work {
  event: ConsumedEvent<unknown>;
  effect: Effect<unknown>;
  /** The record's context, for heartbeats while it waits: a chunk's, or its own. */
  ctx: KafkaContext;
  message: KafkaMessage;
  received: Received;
  trace: TraceContext;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Offset order within a partition; topics and partitions in a stable order between them. */
function byPosition(a: Work, b: Work): number {
  const x = a.event;
  const y = b.event;
  if (x.topic !== y.topic) return x.topic < y.topic ? -1 : 1;
  if (x.partition !== y.partition) return x.partition - y.partition;
  const d = BigInt(x.offset) - BigInt(y.offset);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

const OUTAGE_MAX_BACKOFF_MS = 5_000;
function parseValue(value: Buffer | null): { ok: true; value: Record<string, unknown> } | { ok: false; reason: string } {
  if (value === null || value.length === 0) return { ok: false, reason: 'value is empty' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `value is not JSON: ${(err as Error).message}` };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { ok: false, reason: 'value is not a JSON object' };
  }
  return { ok: true, value: parsed as Record<string, unknown> };
}

function stringHeaders(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(headers ?? {})) {
    if (v === undefined || v === null) continue;
    out[name] = Buffer.isBuffer(v) ? v.toString('utf8') : Array.isArray(v) ? v.map(String).join(',') : String(v);
  }
  return out;
}

function validDate(text: string | undefined): Date | undefined {
  if (!text) return undefined;
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** A heartbeat refused during a rebalance is no reason to fail the record: its commit will tell. */
function heartbeat(ctx: KafkaContext): Promise<void> {
  return ctx.getHeartbeat()().catch(() => undefined);
}

function partitionOf(work: Work): string {
  return `${work.event.topic}|${work.event.partition}`;
}

/**
 * Once a record failed without being applied or set aside (its offset is not committed; Kafka delivers
 * it again), a later record of its partition must not be applied before it: it is failed too, and is
 * delivered again after it.
 */
function rejectedAfterEarlierFailure(halted: Map<string, bigint>, work: Work): boolean {
  const failed = halted.get(partitionOf(work));
  if (failed === undefined || BigInt(work.event.offset) <= failed) return false;
  work.reject(new Error(`${work.event.topic}[${work.event.partition}]@${failed} failed before this record; both are delivered again`));
  return true;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
