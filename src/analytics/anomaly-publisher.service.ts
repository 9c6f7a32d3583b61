import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { appConfig, AppConfig } from '../config/app.config';
import { UnitOfWork } from '../messaging/unit-of-work';
import { AnomalyRow, toAnomalyEvent } from './anomaly';

const BATCH = 100;
/** Fallback sweep, for anomalies whose publication was interrupted (a crash right after detection). */
const SWEEP_INTERVAL_MS = 5_000;

/**
 * Publishes recorded anomalies as `anomaly_detected` events through the UnitOfWork: one transaction
 * claims unpublished rows, appends their events to the outbox and marks them published, so each
 * anomaly is published exactly once. Detection runs inside the consumer's transaction, which the
 * UnitOfWork cannot join; this runs right after that transaction commits (the consumer wakes it).
 */
@Injectable()
export class AnomalyPublisher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AnomalyPublisher.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private again = false;
  private stopped = false;

  constructor(
    private readonly uow: UnitOfWork,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.role.runsBackgroundJobs) return;
    this.timer = setInterval(() => this.wake(), SWEEP_INTERVAL_MS);
    this.timer.unref();
    this.wake();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Runs a pass now, or right after the one in progress. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((err: Error) => this.logger.warn(`publishing anomalies failed, will retry: ${err.message}`))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Publishes every pending anomaly; returns how many. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const published = await this.publishBatch();
      total += published;
      if (published < BATCH || this.stopped) return total;
    }
  }

  private publishBatch(): Promise<number> {
    return this.uow.run(async (tx) => {
      // SKIP LOCKED: instances share the work instead of publishing the same rows twice.
      const rows: AnomalyRow[] = await tx.em.query(
        `SELECT * FROM analytics_anomalies WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [BATCH],
      );
      for (const row of rows) {
        await tx.publish({ type: 'anomaly_detected', entityId: Number(row.id), version: 1, payload: toAnomalyEvent(row), occurredAt: row.occurred_at });
      }
      if (rows.length > 0) {
        await tx.em.query(`UPDATE analytics_anomalies SET published_at = now() WHERE id = ANY($1::bigint[])`, [rows.map((r) => r.id)]);
      }
      return rows.length;
    });
  }
}
