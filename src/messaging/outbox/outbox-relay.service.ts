import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { appConfig, AppConfig } from '../../config/app.config';
import { Metrics } from '../../observability/metrics';
import { KafkaService } from '../kafka/kafka.service';
import { WakeSignal } from '../wake-signal';
import { OutboxService } from './outbox.service';

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
      await this.kafka.publish(taken.rows.map(({ topic, key, value, headers }) => ({ topic, key, value, headers })));
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
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
