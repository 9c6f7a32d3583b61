import { Logger } from '@nestjs/common';
import type { ConsumerRunConfig, EachBatchPayload } from 'kafkajs';

/** What a batch hands over to commit with: bound to the consumer run that fetched it. */
export type Committer = Pick<EachBatchPayload, 'commitOffsetsIfNecessary' | 'uncommittedOffsets'>;

/**
 * When a consumer group commits what its handlers got through.
 *
 * kafkajs commits after every `eachBatch`, whatever its autoCommitInterval says, and a fetch of six
 * partitions is six batches: with a group per module that was up to 24 offset commits per fetch cycle,
 * and the broker's CPU per event went up 3.5×. With an interval, a group commits at most once per
 * interval while batches come, and once more after the last of them (the timer), so a quiet group's
 * lag still reaches zero.
 *
 * What is handled but not yet committed is delivered again after a crash (or a rebalance the commit
 * came too late for), and the consumers' inbox drops it; it is committed at once when a batch fails
 * (as kafkajs does), before a rebalance, when the consumer stops and when the app closes (see
 * BatchingKafkaServer). `intervalMs` 0 leaves kafkajs' commit after every batch.
 */
export class OffsetCommits {
  private committer?: Committer;
  private timer?: NodeJS.Timeout;
  private inFlight?: Promise<void>;

  constructor(
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  /** kafkajs' run options for this policy. */
  runOptions(): Pick<ConsumerRunConfig, 'autoCommit' | 'autoCommitInterval'> {
    return this.intervalMs > 0 ? { autoCommit: false, autoCommitInterval: this.intervalMs } : {};
  }

  /** After a batch: commits when the interval has passed since the last commit, or now when `now`. */
  async afterBatch(committer: Committer, now: boolean): Promise<void> {
    if (this.intervalMs <= 0) return;
    this.committer = committer;
    if (!now) return this.track(committer.commitOffsetsIfNecessary());
    await this.flush();
  }

  /** Commits what is resolved and not committed yet, after any commit under way (a rebalance, a close). */
  async flush(): Promise<void> {
    const committer = this.committer;
    if (!committer) return;
    await this.settled();
    await this.track(commitAll(committer));
  }

  /** The consumer stopped or crashed: its run's offsets are no longer this instance's to commit. */
  forget(): void {
    this.committer = undefined;
  }

  /** The tail's commit: offsets resolved after the last commit of a burst of batches. */
  start(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    // kafkajs commits once the interval has passed since its last commit: a tick every half of it
    // commits a tail within 1.5 intervals.
    this.timer = setInterval(() => void this.tick(), Math.max(50, Math.floor(this.intervalMs / 2)));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    const committer = this.committer;
    if (!committer || this.inFlight) return;
    try {
      await this.track(committer.commitOffsetsIfNecessary());
    } catch (err) {
      // A rebalance or a coordinator moving: the next tick, or the next batch, commits.
      this.log.debug(`offset commit failed, trying again later: ${(err as Error).message}`);
    }
  }

  /** The commit under way, if any, over (whatever its outcome: its caller has it). */
  private async settled(): Promise<void> {
    await this.inFlight?.catch(() => undefined);
  }

  private async track(commit: Promise<void>): Promise<void> {
    const current = commit.finally(() => {
      if (this.inFlight === current) this.inFlight = undefined;
    });
    this.inFlight = current;
    await current;
  }
}

function commitAll(committer: Committer): Promise<void> {
  const offsets = committer.uncommittedOffsets();
  return offsets.topics.length > 0 ? committer.commitOffsetsIfNecessary(offsets) : Promise.resolve();
}
