import { partitionKey, PartitionActivity } from './partition-activity';

const key = partitionKey('order_placed', 0);
const lagging = (committed: bigint, end: bigint) => [{ key, low: 0n, committed, groupCommitted: true, end }];

describe('PartitionActivity', () => {
  it('finds an assigned partition idle past the limit with records past its committed offset', () => {
    const activity = new PartitionActivity();
    activity.assign({ order_placed: [0, 1] }, 1_000);
    expect(activity.stalled(lagging(5n, 9n), 1_000 + 59_999, 60_000)).toEqual([]);
    expect(activity.stalled(lagging(5n, 9n), 1_000 + 60_000, 60_000)).toEqual(lagging(5n, 9n));
  });

  it('never counts a partition without records waiting, or not assigned here', () => {
    const activity = new PartitionActivity();
    activity.assign({ order_placed: [0] }, 0);
    expect(activity.stalled(lagging(9n, 9n), 100_000, 60_000)).toEqual([]);
    activity.assign({ user_created: [0] }, 0);
    expect(activity.stalled(lagging(5n, 9n), 100_000, 60_000)).toEqual([]);
  });

  it('never counts a partition whose batch is in the handlers (e.g. waiting out a database outage)', () => {
    const activity = new PartitionActivity();
    activity.assign({ order_placed: [0] }, 0);
    activity.batchStarted('order_placed', 0, 10);
    expect(activity.stalled(lagging(5n, 9n), 100_000, 60_000)).toEqual([]);
    activity.batchEnded('order_placed', 0, 100_000);
    expect(activity.stalled(lagging(5n, 9n), 160_000, 60_000)).toEqual(lagging(5n, 9n));
  });

  it('counts from the last record handled when it runs ahead of the commit', () => {
    const activity = new PartitionActivity();
    activity.assign({ order_placed: [0] }, 0);
    activity.batchStarted('order_placed', 0, 0);
    activity.batchEnded('order_placed', 0, 0, 9n);
    expect(activity.stalled(lagging(5n, 9n), 100_000, 60_000)).toEqual([]);
  });

  it('forgets the assignment on a rebalance until the next join', () => {
    const activity = new PartitionActivity();
    activity.assign({ order_placed: [0] }, 0);
    activity.clear();
    expect(activity.assigned().size).toBe(0);
    expect(activity.stalled(lagging(5n, 9n), 100_000, 60_000)).toEqual([]);
  });

  it('tells which partitions have had a batch in the handlers for too long, from its first start', () => {
    const activity = new PartitionActivity();
    activity.assign({ order_placed: [0, 1] }, 0);
    activity.batchStarted('order_placed', 0, 1_000);
    activity.batchStarted('order_placed', 0, 5_000);
    activity.batchEnded('order_placed', 0, 6_000);
    activity.batchStarted('order_placed', 1, 2_000);
    activity.batchEnded('order_placed', 1, 3_000);
    expect([...activity.inHandlersSince(61_000, 60_000)]).toEqual([['order_placed|0', 1_000]]);
    activity.batchEnded('order_placed', 0, 62_000);
    expect(activity.inHandlersSince(70_000, 60_000).size).toBe(0);
  });
});
