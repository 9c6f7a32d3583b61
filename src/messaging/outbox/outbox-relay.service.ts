import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { appConfig, AppConfig } from '../../config/app.config';
import { Metrics } from '../../observability/metrics';
import { insertDeadLetter } from '../consumer/dead-letter-row';
import { brokerAnswer } from '../kafka/kafka-errors';
import { KafkaService, OutgoingRecord } from '../kafka/kafka.service';
import { WakeSignal } from '../wake-signal';
import { OutboxRow, OutboxService } from './outbox.service';

// One relay batch runs at a time across all instances, so rows of one entity leave in id order.
export const RELAY_LOCK = 7_310_002;
const BUSY_RETRY_MS = 20;
const MAX_BACKOFF_MS = 5_000;

/**
 * Publishes committed outbox rows to Kafka and deletes them in the same database transaction (the delete
 * comes first and commits only once the broker has acknowledged them).
 * A crash between the broker's ack and the commit republishes a batch: delivery is at least once and
 * consumers deduplicate by `ce_id`.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private running = false;
  private loop?: Promise<void>;
  private readonly signal = new WakeSignal();
  private published = 0;
  private failingSinceAt?: Date;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxService,
    private readonly kafka: KafkaService,
    private readonly metrics: Metrics,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  /** Called after a transaction that wrote to the outbox has committed. */
  wake(): void {
    this.signal.wake();
  }

  get publishedCount(): number {
    return this.published;
  }

  /** When the current run of failed publish attempts began; undefined while publishing works. */
  get failingSince(): Date | undefined {
    return this.failingSinceAt;
  }

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Runs before the database pool closes. */
  async beforeApplicationShutdown(): Promise<void> {
    // The loop finishes the batch in flight (published and deleted, or rolled back) and stops.
    this.running = false;
    this.signal.close();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let result: 'busy' | { more: boolean };
      try {
        result = await this.publishBatch();
        if (failures > 0) this.logger.log(`outbox relay recovered after ${failures} failed attempt(s)`);
        failures = 0;
        this.failingSinceAt = undefined;
      } catch (err) {
        failures += 1;
        this.failingSinceAt ??= new Date();
        if (failures === 1 || failures % 20 === 0) {
          this.logger.warn(`outbox relay cannot publish yet (attempt ${failures}): ${(err as Error).message}`);
        }
        await delay(Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(failures, 10)));
        continue;
      }
      if (result === 'busy') await this.signal.sleep(BUSY_RETRY_MS);
      else if (!result.more) await this.signal.sleep(this.config.outbox.pollIntervalMs);
    }
  }

  private async publishBatch(): Promise<'busy' | { more: boolean }> {
    // Three round trips: BEGIN, take the rows (lock and delete), COMMIT once the broker has them.
    const batch = await this.dataSource.transaction(async (em) => {
      const taken = await this.outbox.take(em, RELAY_LOCK, this.config.outbox.batchSize);
      if (taken === 'busy' || taken.rows.length === 0) return taken;
      try {
        await this.kafka.publish(taken.rows.map(recordOf));
      } catch (err) {
        if (!isRefusedRecord(err)) throw err;
        await this.publishOneByOne(em, taken.rows);
      }
      return taken;
    });
    if (batch === 'busy') return batch;
    // Counted after commit: a batch that rolled back is published again later and counted then.
    this.published += batch.rows.length;
    const perTopic = new Map<string, number>();
    for (const r of batch.rows) perTopic.set(r.topic, (perTopic.get(r.topic) ?? 0) + 1);
    for (const [topic, n] of perTopic) this.metrics.eventsPublished(topic, n);
    return { more: batch.more };
  }

  /**
   * The broker refused the batch for its content (a record or a partition's share of the batch over its
   * size limit), which no retry changes: left alone, that batch would be taken again forever and every
   * event behind it would wait. The rows go one at a time, in id order, and a row refused on its own is
   * set aside in `dead_letters` (consumer `outbox-relay`, partition -1, its outbox id as the offset;
   * listed and replayable like any dead letter) instead of being published. Rows the broker had already appended may be sent twice; consumers drop
   * them by `ce_id`.
   */
  private async publishOneByOne(em: EntityManager, rows: OutboxRow[]): Promise<void> {
    for (const row of rows) {
      try {
        await this.kafka.publish([recordOf(row)]);
      } catch (err) {
        if (!isRefusedRecord(err)) throw err;
        const reason = `the broker refused the record: ${(err as Error).message}`;
        this.logger.error(`outbox row ${row.id} for ${row.topic} set aside: ${reason}`);
        const { topic, key, value, headers } = row;
        await insertDeadLetter(em, { consumer: RELAY_CONSUMER, topic, partition: UNPUBLISHED_PARTITION, offset: row.id, key, value, headers, reason, attempts: 1 });
        this.metrics.deadLettered(row.topic, RELAY_CONSUMER);
      }
    }
  }
}

/** The `consumer` of a dead letter the relay set aside: it was never published, so no consumer read it. */
export const RELAY_CONSUMER = 'outbox-relay';

/** A dead letter's partition when the record never reached a partition. */
const UNPUBLISHED_PARTITION = -1;

/** Refusals of a record's content (kafkajs marks them not retriable); anything else is a passing outage. */
const REFUSED_RECORD = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'CORRUPT_MESSAGE']);

function isRefusedRecord(err: unknown): boolean {
  const type = brokerAnswer(err).type;
  return type !== undefined && REFUSED_RECORD.has(type);
}

function recordOf({ topic, key, value, headers }: OutboxRow): OutgoingRecord {
  return { topic, key, value, headers };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
