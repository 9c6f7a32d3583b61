import { Logger } from '@nestjs/common';
import { Committer, OffsetCommits } from './offset-commits';

/** A batch's commit functions: `resolved` is what kafkajs would report as not committed yet. */
function committer(resolved: Array<{ topic: string; partition: number; offset: string }> = []) {
  const topics = () => (resolved.length ? [{ topic: resolved[0].topic, partitions: resolved.map(({ partition, offset }) => ({ partition, offset })) }] : []);
  const commitOffsetsIfNecessary = jest.fn(async (_offsets?: unknown) => undefined);
  const c: Committer = { commitOffsetsIfNecessary, uncommittedOffsets: () => ({ topics: topics() }) };
  return { c, commitOffsetsIfNecessary };
}

const quiet = { debug: jest.fn() } as unknown as Logger;

describe('OffsetCommits', () => {
  afterEach(() => jest.useRealTimers());

  it("leaves commits to kafkajs' commit after every batch with an interval of 0", async () => {
    const commits = new OffsetCommits(0, quiet);
    const { c, commitOffsetsIfNecessary } = committer([{ topic: 'order_placed', partition: 0, offset: '5' }]);
    expect(commits.runOptions()).toEqual({});
    await commits.afterBatch(c, true);
    await commits.flush();
    expect(commitOffsetsIfNecessary).not.toHaveBeenCalled();
  });

  it("turns kafkajs' commit after every batch off, and commits after a batch only when the interval is due", async () => {
    const commits = new OffsetCommits(1_000, quiet);
    const { c, commitOffsetsIfNecessary } = committer([{ topic: 'order_placed', partition: 0, offset: '5' }]);
    expect(commits.runOptions()).toEqual({ autoCommit: false, autoCommitInterval: 1_000 });
    await commits.afterBatch(c, false);
    // Without offsets kafkajs commits only once autoCommitInterval has passed since its last commit.
    expect(commitOffsetsIfNecessary).toHaveBeenCalledWith();
  });

  it('commits everything resolved at once when told to, and nothing when all is committed', async () => {
    const commits = new OffsetCommits(1_000, quiet);
    const { c, commitOffsetsIfNecessary } = committer([{ topic: 'order_placed', partition: 3, offset: '42' }]);
    await commits.afterBatch(c, true);
    expect(commitOffsetsIfNecessary).toHaveBeenCalledWith({ topics: [{ topic: 'order_placed', partitions: [{ partition: 3, offset: '42' }] }] });
    const none = committer();
    await commits.afterBatch(none.c, true);
    expect(none.commitOffsetsIfNecessary).not.toHaveBeenCalled();
  });

  it("commits a burst's tail on its timer, until the consumer's run is forgotten", async () => {
    jest.useFakeTimers();
    const commits = new OffsetCommits(1_000, quiet);
    const { c, commitOffsetsIfNecessary } = committer([{ topic: 'order_placed', partition: 0, offset: '5' }]);
    commits.start();
    await jest.advanceTimersByTimeAsync(2_000);
    expect(commitOffsetsIfNecessary).not.toHaveBeenCalled();
    await commits.afterBatch(c, false);
    await jest.advanceTimersByTimeAsync(500);
    expect(commitOffsetsIfNecessary).toHaveBeenCalledTimes(2);
    commits.forget();
    await jest.advanceTimersByTimeAsync(5_000);
    expect(commitOffsetsIfNecessary).toHaveBeenCalledTimes(2);
    commits.stop();
  });

  it('tries a failed timed commit again at the next tick', async () => {
    jest.useFakeTimers();
    const commits = new OffsetCommits(1_000, quiet);
    const { c, commitOffsetsIfNecessary } = committer([{ topic: 'order_placed', partition: 0, offset: '5' }]);
    await commits.afterBatch(c, false);
    commitOffsetsIfNecessary.mockRejectedValueOnce(new Error('The group is rebalancing'));
    commits.start();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(commitOffsetsIfNecessary).toHaveBeenCalledTimes(3);
    commits.stop();
  });

  it('flushes after the commit under way, with what is resolved by then', async () => {
    const commits = new OffsetCommits(1_000, quiet);
    const order: string[] = [];
    let finish!: () => void;
    const { c, commitOffsetsIfNecessary } = committer([{ topic: 'order_placed', partition: 0, offset: '9' }]);
    commitOffsetsIfNecessary.mockImplementationOnce(() => new Promise<undefined>((resolve) => (finish = () => (order.push('timed'), resolve(undefined)))));
    const timed = commits.afterBatch(c, false);
    const flushed = commits.flush().then(() => order.push('flushed'));
    await Promise.resolve();
    expect(commitOffsetsIfNecessary).toHaveBeenCalledTimes(1);
    finish();
    await Promise.all([timed, flushed]);
    expect(order).toEqual(['timed', 'flushed']);
    expect(commitOffsetsIfNecessary).toHaveBeenLastCalledWith({ topics: [{ topic: 'order_placed', partitions: [{ partition: 0, offset: '9' }] }] });
  });
});
