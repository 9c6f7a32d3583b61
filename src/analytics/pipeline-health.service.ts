import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { appConfig, AppConfig } from '../config/app.config';
import { ModulesContainer } from '@nestjs/core';
import { consumerGroupId, consumerGroupTopicsOf } from '../messaging/kafka/consumer-groups';
import { ConsumerLag, KafkaService } from '../messaging/kafka/kafka.service';
import { NOT_CONFIGURED, summariseDeliveries, summariseSubscriptions, WebhookHealth } from './webhook-health';

/** Lag asks the brokers; dashboards poll, so answers are reused for this long. */
const LAG_CACHE_MS = 2_000;
const WEBHOOK_SUBSCRIPTIONS = 'webhook_subscriptions';
const WEBHOOK_DELIVERIES = 'webhook_deliveries';
const SECRET_COLUMNS = ['secret', 'previous_secret'];

export interface PipelineHealth {
  deadLetters: { total: number; lastHour: number; byTopic: { topic: string; count: number; lastHour: number }[] };
  consumerLag: { total: number; groups: GroupLag[] };
  webhooks: WebhookHealth;
}

/** One consumer group: its lag over the topics it consumes, or why that is unknown. */
export type GroupLag = (ConsumerLag | { groupId: string; error: string }) & { group: string };

/** What the dashboard shows about the event pipeline: dead letters, consumer lag, webhook deliveries. */
@Injectable()
export class PipelineHealthService {
  private readonly logger = new Logger(PipelineHealthService.name);
  private lag?: { at: number; value: Promise<PipelineHealth['consumerLag']> };
  /** The app's consumer groups and their topics: fixed once the handlers are registered. */
  private groupTopics?: Map<string, string[]>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly kafka: KafkaService,
    private readonly modules: ModulesContainer,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  async health(): Promise<PipelineHealth> {
    const [deadLetters, consumerLag, webhooks] = await Promise.all([this.deadLetters(), this.consumerLag(), this.webhooks()]);
    return { deadLetters, consumerLag, webhooks };
  }

  private async deadLetters(): Promise<PipelineHealth['deadLetters']> {
    const byTopic: { topic: string; count: number; lastHour: number }[] = await this.dataSource.query(
      `SELECT topic, count(*)::int AS count, (count(*) FILTER (WHERE created_at > now() - interval '1 hour'))::int AS "lastHour"
         FROM dead_letters GROUP BY topic ORDER BY count(*) DESC, topic`,
    );
    return {
      total: byTopic.reduce((n, t) => n + t.count, 0),
      lastHour: byTopic.reduce((n, t) => n + t.lastHour, 0),
      byTopic,
    };
  }

  /**
   * Lag of each of the app's consumer groups over the topics its handlers consume; a group unreachable
   * on the broker is reported, not thrown. The groups come from the handlers' metadata, so an instance
   * that runs no consumers (APP_ROLE=api) reports them too.
   */
  private consumerLag(): Promise<PipelineHealth['consumerLag']> {
    if (!this.lag || Date.now() - this.lag.at > LAG_CACHE_MS) {
      const value = Promise.all(
        [...(this.groupTopics ??= consumerGroupTopicsOf(this.modules))].map(([group, topics]): Promise<GroupLag> => {
          const groupId = consumerGroupId(this.config.kafka.groupId, group);
          return this.kafka.consumerLag(groupId, topics).then(
            (lag) => ({ group, ...lag }),
            (err: Error) => {
              this.logger.warn(`consumer lag of ${groupId} unavailable: ${err.message}`);
              return { group, groupId, error: err.message };
            },
          );
        }),
      ).then((groups) => ({ total: groups.reduce((sum, g) => sum + ('total' in g ? g.total : 0), 0), groups }));
      this.lag = { at: Date.now(), value };
    }
    return this.lag.value;
  }

  /**
   * Reads the webhooks tables only if they exist (checked by name, never by importing the module);
   * rows go through to_jsonb so no column name is assumed in SQL.
   */
  private async webhooks(): Promise<WebhookHealth> {
    const [exists] = await this.dataSource.query(
      `SELECT to_regclass($1) IS NOT NULL AS subscriptions, to_regclass($2) IS NOT NULL AS deliveries`,
      [WEBHOOK_SUBSCRIPTIONS, WEBHOOK_DELIVERIES],
    );
    if (!exists.subscriptions && !exists.deliveries) return NOT_CONFIGURED;
    try {
      const subscriptions = exists.subscriptions
        ? summariseSubscriptions(
            // Secrets never leave the database, even into this process.
            (await this.dataSource.query(`SELECT to_jsonb(s) - $1::text[] AS row FROM webhook_subscriptions s LIMIT 10000`, [SECRET_COLUMNS])).map(
              (r: { row: Record<string, unknown> }) => r.row,
            ),
          )
        : null;
      const deliveries = exists.deliveries
        ? summariseDeliveries(
            await this.dataSource.query(
              `SELECT lower(coalesce(to_jsonb(d)->>'status', to_jsonb(d)->>'state')) AS status, count(*)::int AS count
                 FROM webhook_deliveries d GROUP BY 1`,
            ),
          )
        : null;
      return { configured: true, subscriptions, deliveries };
    } catch (err) {
      // A table being migrated right now: say nothing rather than fail the whole dashboard.
      this.logger.warn(`webhook health unavailable: ${(err as Error).message}`);
      return NOT_CONFIGURED;
    }
  }
}
