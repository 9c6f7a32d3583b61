import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { appConfig, AppConfig } from '../../config/app.config';
import { UnitOfWork } from '../../messaging/unit-of-work';
import { DeliveriesRepository } from '../deliveries/deliveries.repository';
import { InboundWebhooksRepository } from '../inbound/inbound-webhooks.repository';
import { SubscriptionDisabler } from '../subscriptions/subscription-disabler.service';
import { SubscriptionsRepository } from '../subscriptions/subscriptions.repository';

const INTERVAL_MS = 10 * 60_000;
const PURGE_BATCH = 1000;
// One instance sweeps at a time; the others skip that round.
const MAINTENANCE_LOCK = 7_310_301;

export interface SweepResult {
  payloadsPurged: number;
  inboundIdsPurged: number;
  subscriptionsDisabled: number;
}

/**
 * Periodic housekeeping: purges payloads and response bodies of finished deliveries past the retention,
 * forgets old inbound webhook ids, and disables subscriptions that have had no success for the
 * configured period even when no attempt is due to notice it (their next retry may be hours away).
 */
@Injectable()
export class WebhookMaintenance implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookMaintenance.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly uow: UnitOfWork,
    private readonly deliveries: DeliveriesRepository,
    private readonly inbound: InboundWebhooksRepository,
    private readonly subscriptions: SubscriptionsRepository,
    private readonly disabler: SubscriptionDisabler,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.role.runsBackgroundJobs) return;
    this.timer = setInterval(() => this.tick(), INTERVAL_MS);
    this.timer.unref();
    this.tick();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One sweep; returns what it did (0s when another instance holds the sweep lock). */
  async sweep(): Promise<SweepResult> {
    const result: SweepResult = { payloadsPurged: 0, inboundIdsPurged: 0, subscriptionsDisabled: 0 };
    const { retentionMs, disableAfterMs } = this.config.webhooks;
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }] = await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [MAINTENANCE_LOCK]);
      if (!locked) return result;
      try {
        // Small batches keep each statement short next to the dispatcher's work.
        for (let n = PURGE_BATCH; n === PURGE_BATCH; result.payloadsPurged += n) {
          n = await this.deliveries.purgePayloads(runner.manager, retentionMs, PURGE_BATCH);
        }
        result.inboundIdsPurged = await this.inbound.purgeOlderThan(runner.manager, retentionMs);
        for (const id of await this.subscriptions.overdue(runner.manager, disableAfterMs)) {
          const disabled = await this.uow.run((tx) => this.disabler.disable(tx, id, `no successful delivery for ${disableAfterMs / 3_600_000} hours`));
          if (disabled) result.subscriptionsDisabled += 1;
        }
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [MAINTENANCE_LOCK]);
      }
    } finally {
      await runner.release();
    }
    return result;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.sweep()
      .then((r) => {
        if (r.payloadsPurged + r.inboundIdsPurged + r.subscriptionsDisabled > 0) {
          this.logger.log(`webhook maintenance: ${r.payloadsPurged} payload(s) purged, ${r.inboundIdsPurged} inbound id(s) forgotten, ${r.subscriptionsDisabled} subscription(s) disabled`);
        }
      })
      .catch((err: unknown) => this.logger.warn(`webhook maintenance failed: ${(err as Error).message}`))
      .finally(() => (this.running = undefined));
  }
}
