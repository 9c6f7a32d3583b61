import { Logger } from '@nestjs/common';
import type { Admin, Kafka } from 'kafkajs';
import { partitionKey, PartitionActivity, PartitionOffsets, shownPartition, topicPartitionOf } from './partition-activity';

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
  private readonly logger: Logger;
  private timer?: NodeJS.Timeout;
  private admin?: Admin;
  private checking = false;
  /** Looks that could not ask the broker since the last warning about them: a watchdog that cannot see must say so. */
  private failedLooks = 0;
  private lastFailureWarning = Number.NEGATIVE_INFINITY;
  /** Partitions found stalled by the previous look: one look alone may come right after a broker returned. */
  private suspects = new Set<string>();
  /** Long batches already reported, by partition and start, so each is reported once. */
  private reportedLong = new Set<string>();

  constructor(
    private readonly kafka: Kafka,
    private readonly groupId: string,
    private readonly activity: PartitionActivity,
    private readonly idleMs: number,
    private readonly restart: (reason: string) => Promise<void>,
    /** Where the group starts a partition it never committed: its first record, or its end. */
    private readonly fromBeginning = true,
    /** Every look's offsets, for a check of its own (the skip guard's: committed past what was handled). */
    private readonly onLook: (offsets: PartitionOffsets[]) => void = () => undefined,
  ) {
    this.logger = new Logger(`KafkaConsumerWatchdog ${groupId}`);
  }

  start(): void {
    if (this.timer || this.idleMs <= 0) return;
    this.logger.log(`watching the consumer's partitions: a partition with records waiting and no batch for ${this.idleMs} ms restarts it`);
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
      this.reportLongBatches(now());
      const assigned = this.activity.assigned();
      if (assigned.size === 0) return void this.suspects.clear();
      let offsets: PartitionOffsets[];
      try {
        // A look that hangs (a request kafkajs never answers) must not stop every later look.
        offsets = await withDeadline(this.offsetsOf(assigned), this.lookDeadlineMs());
      } catch (err) {
        return this.lookFailed(err as Error, now());
      }
      this.onLook(offsets);
      const found = this.activity.stalled(offsets, now(), this.idleMs);
      const stalled = found.filter((p) => this.suspects.has(p.key));
      this.suspects = new Set(found.map((p) => p.key));
      if (found.length > stalled.length) this.logger.log(`partition(s) idle with records waiting, restarting the consumer if still so at the next look: ${describe(found)}`);
      if (stalled.length === 0) return;
      this.suspects.clear();
      await this.restart(`no batch for ${this.idleMs} ms from partition(s) with records waiting: ${describe(stalled)}`);
    } finally {
      this.checking = false;
    }
  }

  /**
   * The broker may be what is down (the consumer reports that itself): look again next time, with a new
   * admin. The suspects stay: a failed look says nothing about them, and clearing them would let looks
   * that fail every other time keep a stalled partition from ever being restarted. Warned at most once
   * per stall limit, however the failures come.
   */
  private lookFailed(err: Error, now: number): void {
    this.failedLooks += 1;
    const message = `cannot check the consumer's partitions (${this.failedLooks} failed look(s)): ${err.message}`;
    if (now - this.lastFailureWarning >= this.idleMs) {
      this.logger.warn(message);
      this.lastFailureWarning = now;
      this.failedLooks = 0;
    } else this.logger.debug(message);
    const admin = this.admin;
    this.admin = undefined;
    void admin?.disconnect().catch(() => undefined);
  }

  /** A batch in the handlers for longer than the stall limit is a hung handler, or a database outage. */
  private reportLongBatches(now: number): void {
    const long = [...this.activity.inHandlersSince(now, this.idleMs)].map(([key, since]) => ({ key, since, id: `${key}@${since}` }));
    const fresh = long.filter((b) => !this.reportedLong.has(b.id));
    this.reportedLong = new Set(long.map((b) => b.id));
    if (fresh.length === 0) return;
    const which = fresh.map((b) => `${shown(b.key)} for ${Math.round((now - b.since) / 1000)} s`).join(', ');
    this.logger.warn(`a batch has been in the handlers longer than ${this.idleMs} ms: ${which}`);
  }

  private lookDeadlineMs(): number {
    return Math.max(5_000, Math.floor(this.idleMs / 2));
  }

  private async offsetsOf(assigned: Map<string, number[]>): Promise<PartitionOffsets[]> {
    // Kept before it connects, so a look that fails or hangs while connecting still disconnects it.
    const admin = this.admin ?? (this.admin = this.kafka.admin());
    await admin.connect();
    const topics = [...assigned.keys()];
    const committed = await admin.fetchOffsets({ groupId: this.groupId, topics });
    const offsets: PartitionOffsets[] = [];
    for (const { topic, partitions } of committed) {
      const mine = new Set(assigned.get(topic));
      const bounds = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, { low: BigInt(p.low), end: BigInt(p.high) }]));
      for (const { partition, offset } of partitions) {
        const bound = bounds.get(partition);
        if (!mine.has(partition) || !bound) continue;
        const key = partitionKey(topic, partition);
        // Never committed (-1): the consumer starts at the first record, or at the end it first saw;
        // a partition kafkajs never fetched after a restart looked exactly like that in fault 5.
        const groupCommitted = BigInt(offset) >= 0n;
        const committed = groupCommitted ? BigInt(offset) : this.activity.startOf(key, this.fromBeginning ? bound.low : bound.end);
        offsets.push({ key, low: bound.low, committed, groupCommitted, end: bound.end });
      }
    }
    return offsets;
  }
}

const shown = (key: string): string => {
  const { topic, partition } = topicPartitionOf(key);
  return shownPartition(topic, partition);
};

const describe = (partitions: PartitionOffsets[]): string => partitions.map((p) => `${shown(p.key)} at ${p.committed} of ${p.end}`).join(', ');

/** `work`, or a rejection once `ms` have passed without its outcome. */
export function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
