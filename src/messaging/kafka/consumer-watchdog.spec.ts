import { Logger } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { ConsumerWatchdog } from './consumer-watchdog';
import { PartitionActivity } from './partition-activity';

/** A Kafka client whose admin reports these offsets for order_placed partition 0 (`high` may change between looks). */
function kafkaWith(offsets: { committed: string; high: string } | Error): Kafka {
  const admin = {
    connect: jest.fn(async () => undefined),
    disconnect: jest.fn(async () => undefined),
    fetchOffsets: jest.fn(async () => {
      if (offsets instanceof Error) throw offsets;
      return [{ topic: 'order_placed', partitions: [{ partition: 0, offset: offsets.committed }] }];
    }),
    fetchTopicOffsets: jest.fn(async () => [{ partition: 0, offset: '0', high: (offsets as { high: string }).high, low: '0' }]),
  };
  return { admin: () => admin } as unknown as Kafka;
}

function watchdogOver(kafka: Kafka, fromBeginning = true) {
  const activity = new PartitionActivity();
  activity.assign({ order_placed: [0] }, 0);
  const restart = jest.fn(async () => undefined);
  return { watchdog: new ConsumerWatchdog(kafka, 'group', activity, 60_000, restart, fromBeginning), restart, activity };
}

describe('ConsumerWatchdog', () => {
  it('restarts the consumer when two looks in a row find a partition stalled', async () => {
    const { watchdog, restart } = watchdogOver(kafkaWith({ committed: '5', high: '9' }));
    await watchdog.check(() => 61_000);
    expect(restart).not.toHaveBeenCalled();
    await watchdog.check(() => 81_000);
    expect(restart).toHaveBeenCalledTimes(1);
    expect(restart.mock.calls[0]).toEqual([expect.stringContaining('order_placed[0] at 5 of 9')]);
  });

  it('leaves alone a partition that got a batch between the two looks', async () => {
    const { watchdog, restart, activity } = watchdogOver(kafkaWith({ committed: '5', high: '9' }));
    await watchdog.check(() => 61_000);
    activity.batchStarted('order_placed', 0, 70_000);
    activity.batchEnded('order_placed', 0, 70_000);
    await watchdog.check(() => 81_000);
    expect(restart).not.toHaveBeenCalled();
  });

  it('restarts the consumer for a partition the group never committed and never fetched from its first record', async () => {
    const { watchdog, restart } = watchdogOver(kafkaWith({ committed: '-1', high: '267' }));
    await watchdog.check(() => 61_000);
    await watchdog.check(() => 81_000);
    expect(restart.mock.calls[0]).toEqual([expect.stringContaining('order_placed[0] at 0 of 267')]);
  });

  it('starting at the end, counts a never-committed partition from the end it first saw', async () => {
    const offsets = { committed: '-1', high: '40' };
    const { watchdog, restart } = watchdogOver(kafkaWith(offsets), false);
    await watchdog.check(() => 61_000);
    await watchdog.check(() => 81_000);
    expect(restart).not.toHaveBeenCalled();
    offsets.high = '42';
    await watchdog.check(() => 101_000);
    await watchdog.check(() => 121_000);
    expect(restart.mock.calls[0]).toEqual([expect.stringContaining('order_placed[0] at 40 of 42')]);
  });

  it('does nothing when the broker cannot be asked, and starts counting again', async () => {
    const { watchdog, restart } = watchdogOver(kafkaWith(new Error('Connection error')));
    await watchdog.check(() => 61_000);
    await watchdog.check(() => 81_000);
    expect(restart).not.toHaveBeenCalled();
  });

  it('gives up on a look the broker never answers, so the next look still happens', async () => {
    jest.useFakeTimers();
    try {
      const kafka = kafkaWith({ committed: '5', high: '9' });
      const admin = kafka.admin();
      (admin.fetchOffsets as jest.Mock).mockImplementationOnce(() => new Promise(() => undefined));
      const { watchdog, restart } = watchdogOver(kafka);
      const hung = watchdog.check(() => 41_000);
      await jest.advanceTimersByTimeAsync(30_000);
      await hung;
      await watchdog.check(() => 61_000);
      await watchdog.check(() => 81_000);
      expect(restart).toHaveBeenCalledTimes(1);
    } finally {
      jest.useRealTimers();
    }
  });

  it('reports once a batch that stays in the handlers past the limit, and restarts nothing for it', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const { watchdog, restart, activity } = watchdogOver(kafkaWith({ committed: '5', high: '9' }));
      activity.batchStarted('order_placed', 0, 1_000);
      await watchdog.check(() => 62_000);
      await watchdog.check(() => 82_000);
      expect(warn.mock.calls.map(([m]) => String(m))).toEqual([expect.stringContaining('order_placed[0] for 61 s')]);
      expect(restart).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('keeps its suspects across a failed look, so looks that fail every other time cannot hide a stall', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const kafka = kafkaWith({ committed: '5', high: '9' });
      const { watchdog, restart } = watchdogOver(kafka);
      await watchdog.check(() => 61_000);
      (kafka.admin().fetchOffsets as jest.Mock).mockRejectedValueOnce(new Error('Connection error'));
      await watchdog.check(() => 71_000);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining("cannot check the consumer's partitions (1 failed look(s)): Connection error"));
      await watchdog.check(() => 81_000);
      expect(restart).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
    }
  });

  it("hands every look's offsets on, telling a group's commit from where a never-committed partition is taken to start", async () => {
    const onLook = jest.fn();
    for (const [committed, groupCommitted] of [['5', true], ['-1', false]] as const) {
      const activity = new PartitionActivity();
      activity.assign({ order_placed: [0] }, 0);
      const watchdog = new ConsumerWatchdog(kafkaWith({ committed, high: '9' }), 'group', activity, 60_000, async () => undefined, false, onLook);
      await watchdog.check(() => 1_000);
    }
    expect(onLook.mock.calls).toEqual([
      [[{ key: 'order_placed|0', low: 0n, committed: 5n, groupCommitted: true, end: 9n }]],
      [[{ key: 'order_placed|0', low: 0n, committed: 9n, groupCommitted: false, end: 9n }]],
    ]);
  });
});
