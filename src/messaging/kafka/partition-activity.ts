/** A partition's key: `topic|partition`. */
export type PartitionKey = string;

export const partitionKey = (topic: string, partition: number): PartitionKey => `${topic}|${partition}`;

/** `topic[partition]`, as Kafka's tools print it. */
export const shownPartition = (topic: string, partition: number): string => `${topic}[${partition}]`;

export function topicPartitionOf(key: PartitionKey): { topic: string; partition: number } {
  const at = key.lastIndexOf('|');
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
}

/** Where a partition stands: its first retained record, the group's committed offset and its end (high watermark). */
export interface PartitionOffsets {
  key: PartitionKey;
  low: bigint;
  /** For a partition the group never committed, where the consumer starts (see ConsumerWatchdog). */
  committed: bigint;
  /** The group has committed an offset for it; else `committed` is where the consumer is taken to start. */
  groupCommitted: boolean;
  end: bigint;
}

/**
 * What this instance's consumer has been doing with each partition it was assigned: when it last
 * handed a batch to the handlers, whether one is in their hands now, and how far it got. The watchdog
 * asks it which partitions have records waiting yet have been left alone for too long.
 */
export class PartitionActivity {
  /** Assigned partitions and when each last showed activity (assignment, a batch starting or ending). */
  private readonly lastActive = new Map<PartitionKey, number>();
  private readonly inFlight = new Map<PartitionKey, number>();
  /** When the batches now in the handlers' hands started, for a partition with any. */
  private readonly inFlightSince = new Map<PartitionKey, number>();
  /** The offset after the last record handled, which runs ahead of the committed offset between commits. */
  private readonly handledUpTo = new Map<PartitionKey, bigint>();
  /** Where a partition the group never committed starts, fixed at the first look after the assignment. */
  private readonly startAt = new Map<PartitionKey, bigint>();

  /** A new assignment (the group rebalanced): every partition of it starts its idle clock now. */
  assign(assignment: Record<string, number[]>, now: number): void {
    this.clear();
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) this.lastActive.set(partitionKey(topic, partition), now);
    }
  }

  /** The consumer stopped or is restarting: nothing is assigned until the next join. */
  clear(): void {
    this.lastActive.clear();
    this.inFlight.clear();
    this.inFlightSince.clear();
    this.handledUpTo.clear();
    this.startAt.clear();
  }

  /** The start of a never-committed partition in this assignment: `start` the first time it is asked. */
  startOf(key: PartitionKey, start: bigint): bigint {
    if (!this.startAt.has(key)) this.startAt.set(key, start);
    return this.startAt.get(key)!;
  }

  batchStarted(topic: string, partition: number, now: number): void {
    const key = partitionKey(topic, partition);
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    if (!this.inFlightSince.has(key)) this.inFlightSince.set(key, now);
    if (this.lastActive.has(key)) this.lastActive.set(key, now);
  }

  /** `handledUpTo`: the offset after the last record the batch resolved, if it resolved any. */
  batchEnded(topic: string, partition: number, now: number, handledUpTo?: bigint): void {
    const key = partitionKey(topic, partition);
    const left = (this.inFlight.get(key) ?? 1) - 1;
    if (left > 0) this.inFlight.set(key, left);
    else {
      this.inFlight.delete(key);
      this.inFlightSince.delete(key);
    }
    if (this.lastActive.has(key)) this.lastActive.set(key, now);
    if (handledUpTo !== undefined && handledUpTo > (this.handledUpTo.get(key) ?? -1n)) this.handledUpTo.set(key, handledUpTo);
  }

  /**
   * Partitions whose batch has been in the handlers' hands for `ms` or more, with when it started. A
   * restart cannot help those (stopping the consumer waits for the batch), but they must be seen.
   */
  inHandlersSince(now: number, ms: number): Map<PartitionKey, number> {
    return new Map([...this.inFlightSince].filter(([, since]) => now - since >= ms));
  }

  /** The assigned partitions by topic, to ask the broker about. */
  assigned(): Map<string, number[]> {
    const byTopic = new Map<string, number[]>();
    for (const key of this.lastActive.keys()) {
      const { topic, partition } = topicPartitionOf(key);
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
    }
    return byTopic;
  }

  /**
   * Assigned partitions with records past what was committed and handled, no batch in the handlers'
   * hands, and no activity for `idleMs`: the consumer is not fetching them. A batch waiting out a
   * database outage is in flight, so it never counts as stalled.
   */
  stalled(offsets: PartitionOffsets[], now: number, idleMs: number): PartitionOffsets[] {
    return offsets.filter(({ key, committed, end }) => {
      const since = this.lastActive.get(key);
      if (since === undefined || this.inFlight.has(key)) return false;
      const position = committed > (this.handledUpTo.get(key) ?? -1n) ? committed : this.handledUpTo.get(key)!;
      return position >= 0n && end > position && now - since >= idleMs;
    });
  }
}
