import { Logger } from '@nestjs/common';
import type { Admin, Kafka } from 'kafkajs';
import { partitionKey, PartitionActivity, PartitionOffsets } from './partition-activity';

/**
 * Restarts this instance's consumer when it stops fetching a partition that has records waiting.
 *
 * kafkajs 2.2.4 (unmaintained since 2023) can stop fetching partitions after a broker of the cluster
 * dies, with nothing logged and the group stable: in a CI run of fault 5 the consumer's calls to the
 * dead broker ran out of retries, kafkajs restarted it, and the user topics' partitions were not
 * fetched again while order_placed kept flowing. A restart (stop, run: a new fetch state, the group
 * joined again) starts from the committed offsets; the inbox turns what is handled twice into no-ops.
 */
export class ConsumerWatchdog {
  private readonly logger = new Logger('KafkaConsumerWatchdog');
  private timer?: NodeJS.Timeout;
  private admin?: Admin;
  private checking = false;
  /** Partitions found stalled by the previous look: one look alone may come right after a broker returned. */
  private suspects = new Set<string>();

  constructor(
    private readonly kafka: Kafka,
    private readonly groupId: string,
    private readonly activity: PartitionActivity,
    private readonly idleMs: number,
    private readonly restart: (reason: string) => Promise<void>,
    /** Where the group starts a partition it never committed: its first record, or its end. */
    private readonly fromBeginning = true,
  ) {}

  start(): void {
    if (this.timer || this.idleMs <= 0) return;
    this.timer = setInterval(() => void this.check(), Math.max(1_000, Math.floor(this.idleMs / 3)));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = undefined;
  }

  /** One look at the assigned partitions; public for tests. Never throws: a failed look is tried again. */
  async check(now = () => Date.now()): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const assigned = this.activity.assigned();
      if (assigned.size === 0) return void this.suspects.clear();
      const offsets = await this.offsetsOf(assigned);
      const found = this.activity.stalled(offsets, now(), this.idleMs);
      const stalled = found.filter((p) => this.suspects.has(p.key));
      this.suspects = new Set(found.map((p) => p.key));
      if (stalled.length === 0) return;
      this.suspects.clear();
      const which = stalled.map((p) => `${p.key.replace('|', '[')}] at ${p.committed} of ${p.end}`).join(', ');
      await this.restart(`no batch for ${this.idleMs} ms from partition(s) with records waiting: ${which}`);
    } catch (err) {
      // The broker may be what is down; the consumer reports that itself. Look again next time.
      this.logger.debug(`cannot check the consumer's partitions: ${(err as Error).message}`);
      this.suspects.clear();
      await this.admin?.disconnect().catch(() => undefined);
      this.admin = undefined;
    } finally {
      this.checking = false;
    }
  }

  private async offsetsOf(assigned: Map<string, number[]>): Promise<PartitionOffsets[]> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    const topics = [...assigned.keys()];
    const committed = await this.admin.fetchOffsets({ groupId: this.groupId, topics });
    const offsets: PartitionOffsets[] = [];
    for (const { topic, partitions } of committed) {
      const mine = new Set(assigned.get(topic));
      const bounds = new Map((await this.admin.fetchTopicOffsets(topic)).map((p) => [p.partition, { low: BigInt(p.low), end: BigInt(p.high) }]));
      for (const { partition, offset } of partitions) {
        const bound = bounds.get(partition);
        if (!mine.has(partition) || !bound) continue;
        const key = partitionKey(topic, partition);
        // Never committed (-1): the consumer starts at the first record, or at the end it first saw;
        // a partition kafkajs never fetched after a restart looked exactly like that in fault 5.
        const committed = BigInt(offset) >= 0n ? BigInt(offset) : this.activity.startOf(key, this.fromBeginning ? bound.low : bound.end);
        offsets.push({ key, committed, end: bound.end });
      }
    }
    return offsets;
  }
}
