import { partitionKey, PartitionKey } from './partition-activity';

/** How often a partition is sent back to the same offset before the records past it are taken as gone. */
export const SEND_BACK_TRIES = 5;

/** Whether a position skips records, and if so where the partition must go back to. */
export type SkipVerdict = { skipped: false } | { skipped: true; to: bigint; tries: number; givenUp: boolean };

/**
 * Where each partition's next batch must start: right after the last record this instance handled
 * there. Kept across kafkajs' own restarts of the consumer, which is where it matters.
 *
 * kafkajs starts a partition the group has no committed offset for at the configured default (its end,
 * with KAFKA_FROM_BEGINNING=false), and resets to it on "offset out of range". A partition whose records
 * were all handled while the group coordinator was down has no committed offset, so after kafkajs'
 * crash-restart it starts at its end, past records no handler saw. A position beyond the expected offset
 * is such a skip: the consumer goes back, and the inbox drops anything delivered twice.
 */
export class SkipGuard {
  private readonly next = new Map<PartitionKey, bigint>();
  /** The offset a partition was last sent back to by a fetched batch, and how many times in a row. */
  private readonly sentBack = new Map<PartitionKey, { to: bigint; tries: number }>();
  /** Partitions not handled since the consumer started again, which kafkajs then placed afresh. */
  private readonly sinceRestart = new Set<PartitionKey>();

  /** A new assignment: where a partition this member no longer holds got to is another member's business. */
  keepOnly(assignment: Record<string, number[]>): void {
    const held = new Set(Object.entries(assignment).flatMap(([topic, partitions]) => partitions.map((p) => partitionKey(topic, p))));
    for (const key of [...this.next.keys()]) {
      if (held.has(key)) continue;
      this.next.delete(key);
      this.sentBack.delete(key);
      this.sinceRestart.delete(key);
    }
  }

  /** The consumer is starting again (kafkajs' crash-restart, or the watchdog's restart). */
  restarted(): void {
    for (const key of this.next.keys()) this.sinceRestart.add(key);
  }

  /** Every record before `next` was handled (or, for control records, resolved by kafkajs itself). */
  handled(topic: string, partition: number, next: bigint): void {
    const key = partitionKey(topic, partition);
    this.sinceRestart.delete(key);
    if (next > (this.next.get(key) ?? -1n)) this.next.set(key, next);
  }

  /**
   * A batch fetched from `position`. The same skip again and again, with nothing handled between, means
   * the records past the expected offset are gone (deleted by retention: going back leads to "offset out
   * of range" and the same reset): after SEND_BACK_TRIES the position is taken as it is.
   */
  fetched(topic: string, partition: number, position: bigint): SkipVerdict {
    const key = partitionKey(topic, partition);
    const expected = this.next.get(key);
    // Earlier than expected is a redelivery (a restart from the last commit): the inbox drops it.
    if (expected === undefined || position <= expected) return { skipped: false };
    const last = this.sentBack.get(key);
    const tries = last?.to === expected ? last.tries + 1 : 1;
    this.sentBack.set(key, { to: expected, tries });
    const givenUp = tries > SEND_BACK_TRIES;
    if (givenUp) this.next.set(key, position);
    return { skipped: true, to: expected, tries, givenUp };
  }

  /**
   * Where the group stands in a partition, for one no batch may come from soon (a quiet one); returns
   * where to go back to. A commit past the expected offset is the same skip. For a partition the group
   * never committed, `committed` is where kafkajs is taken to start it: that counts after a restart
   * (kafkajs then starts it afresh, at its end with KAFKA_FROM_BEGINNING=false), not before, when the
   * guess runs ahead of records on their way to the handlers. `low` is the partition's first retained record:
   * records before it are gone, so nothing before it is expected.
   */
  behind(key: PartitionKey, position: { committed: bigint; groupCommitted: boolean; low: bigint }): bigint | undefined {
    const expected = this.next.get(key);
    if (expected === undefined) return undefined;
    if (!position.groupCommitted && !this.sinceRestart.has(key)) return undefined;
    const floor = expected < position.low ? position.low : expected;
    this.next.set(key, floor);
    return position.committed > floor ? floor : undefined;
  }
}
