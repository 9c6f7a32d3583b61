import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Admin, CompressionTypes, Kafka, Producer } from 'kafkajs';
import { appConfig, AppConfig } from '../../config/app.config';
import { brokerAnswer } from './kafka-errors';
import { kafkaClientConfig } from './kafka-options';
import { SendReceipt, TopicMessages } from './send-receipt';

export interface OutgoingRecord {
  topic: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** How far a consumer group is behind the end of each topic (records not yet consumed). */
export interface ConsumerLag {
  groupId: string;
  total: number;
  topics: { topic: string; lag: number; partitions: { partition: number; committed: string | null; end: string; lag: number }[] }[];
}

export interface TopicSpec {
  topic: string;
  /** Extra topic-level settings, such as `cleanup.policy`. */
  config?: Record<string, string>;
}

/**
 * The only class that talks to kafkajs directly (Nest's transport aside): an idempotent producer
 * with acks=all, and the admin client that creates topics. Swapping the client library touches this folder.
 */
@Injectable()
export class KafkaService implements OnApplicationShutdown {
  private readonly kafka: Kafka;
  private producer?: Producer;
  private connecting?: Promise<Producer>;
  private readonly receipt = new SendReceipt();
  private readonly logger = new Logger(KafkaService.name);

  constructor(@Inject(appConfig.KEY) private readonly config: AppConfig) {
    this.kafka = new Kafka(kafkaClientConfig(config.kafka, '-producer'));
  }

  /** Publishes records in order; resolves once every partition leader and its in-sync replicas have them. */
  async publish(records: OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    const producer = await this.connectedProducer();
    const byTopic = new Map<string, OutgoingRecord[]>();
    for (const record of records) {
      const list = byTopic.get(record.topic) ?? [];
      list.push(record);
      byTopic.set(record.topic, list);
    }
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, list]) => ({
      topic,
      messages: list.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
    }));
    try {
      const answers = await producer.sendBatch({ acks: -1, compression: CompressionTypes.None, topicMessages });
      const missing = this.receipt.unanswered(topicMessages, answers);
      if (missing.length > 0) {
        const message = `a send resolved but partitions ${missing.join(', ')} never answered; the batch will be sent again`;
        this.logger.warn(message);
        throw new Error(message);
      }
    } catch (err) {
      // kafkajs rolls a partition's sequence number back when a send fails, even when the broker had
      // already appended the batch (a leader failing over mid-request): every later, different batch is
      // then refused with OUT_OF_ORDER_SEQUENCE_NUMBER, for good. A fresh producer id starts the sequences
      // over; the batch sent again may repeat records the broker has, which consumers drop by ce_id.
      await this.discardProducer(producer);
      throw err;
    }
  }

  /** Creates missing topics with the configured partitions, replication and `min.insync.replicas`. */
  async ensureTopics(specs: TopicSpec[]): Promise<string[]> {
    const admin: Admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = specs.filter((s) => !existing.has(s.topic));
      if (missing.length > 0) {
        await this.createAndAwaitLeaders(admin, missing);
      }
      return missing.map((s) => s.topic);
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * On a fresh multi-broker cluster the broker kafkajs asks for leaders may not know a new topic yet
   * ("This server does not host this topic-partition"): then ask again until every partition has a leader.
   */
  private async createAndAwaitLeaders(admin: Admin, missing: TopicSpec[]): Promise<void> {
    try {
      await this.createTopics(admin, missing);
      return;
    } catch (err) {
      const { type } = brokerAnswer(err);
      if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE') throw err;
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: missing.map((s) => s.topic) });
        if (topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
      if (Date.now() > deadline) throw new Error(`topics have no leader after 30 s: ${missing.map((s) => s.topic).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  private async createTopics(admin: Admin, missing: TopicSpec[]): Promise<void> {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((s) => ({
        topic: s.topic,
        numPartitions: this.config.kafka.topicPartitions,
        replicationFactor: this.config.kafka.replicationFactor,
        configEntries: Object.entries({
          'min.insync.replicas': String(this.config.kafka.minInsyncReplicas),
          ...s.config,
        }).map(([name, value]) => ({ name, value })),
      })),
    });
  }

  /**
   * Lag of a consumer group: each partition's end offset minus the group's committed offset. A partition
   * the group never committed counts from its first retained record, as the group starts from the beginning.
   */
  async consumerLag(groupId: string, topics: string[]): Promise<ConsumerLag> {
    const admin: Admin = this.kafka.admin();
    await admin.connect();
    try {
      const committed = await admin.fetchOffsets({ groupId, topics });
      const result: ConsumerLag = { groupId, total: 0, topics: [] };
      for (const topic of topics) {
        const ends = await admin.fetchTopicOffsets(topic);
        const offsets = new Map(committed.find((c) => c.topic === topic)?.partitions.map((p) => [p.partition, p.offset]));
        const partitions = ends.map((p) => {
          const done = offsets.get(p.partition);
          const from = done === undefined || Number(done) < 0 ? Number(p.low) : Number(done);
          return { partition: p.partition, committed: done === undefined || Number(done) < 0 ? null : done, end: p.high, lag: Math.max(0, Number(p.high) - from) };
        });
        const lag = partitions.reduce((sum, p) => sum + p.lag, 0);
        result.topics.push({ topic, lag, partitions });
        result.total += lag;
      }
      return result;
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * A consumer group that has committed nothing takes over where another group got to, topic by topic
   * (only partitions that group committed). Used on start-up so the per-module groups of this version
   * go on from the one shared group of an earlier version: without it they would start where
   * KAFKA_FROM_BEGINNING says, replaying the topics or skipping what was written during the upgrade.
   * Answers the topics taken over.
   */
  async takeOverOffsets(fromGroupId: string, toGroupId: string, topics: string[]): Promise<string[]> {
    if (topics.length === 0) return [];
    const admin: Admin = this.kafka.admin();
    await admin.connect();
    try {
      const own = await admin.fetchOffsets({ groupId: toGroupId, topics });
      if (own.some((t) => t.partitions.some((p) => Number(p.offset) >= 0))) return [];
      const taken: string[] = [];
      for (const { topic, partitions } of await admin.fetchOffsets({ groupId: fromGroupId, topics })) {
        const committed = partitions.filter((p) => Number(p.offset) >= 0).map(({ partition, offset }) => ({ partition, offset }));
        if (committed.length === 0) continue;
        await admin.setOffsets({ groupId: toGroupId, topic, partitions: committed });
        taken.push(topic);
      }
      return taken;
    } finally {
      await admin.disconnect();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    // Flushes nothing pending: publish() only resolves after the broker acknowledged.
    await this.producer?.disconnect();
    this.producer = undefined;
  }

  private async discardProducer(producer: Producer): Promise<void> {
    if (this.producer === producer) this.producer = undefined;
    await producer.disconnect().catch(() => undefined);
  }

  private async connectedProducer(): Promise<Producer> {
    if (this.producer) return this.producer;
    this.connecting ??= (async () => {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: this.receipt.partitioner,
        allowAutoTopicCreation: false,
      });
      try {
        await producer.connect();
        this.producer = producer;
        return producer;
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }
}
