import { AppProcess } from '../support/app-process';
import { appEnv, lastWords, stopInstances } from './support/apps';
import { kafkaCtl, SINGLE_BROKER } from './support/infra';
import { endOffsets, readSince, startGroupAtEnd } from './support/kafka-ledger';
import { UserWriteLoad } from './support/load';
import { progress, report } from './support/summary';
import { settleUserWrites, tallyUserWrites, USER_TOPICS } from './support/tally';

const GROUP = 'nestream-faults-1';

describe('fault 1: the broker is stopped while HTTP writes continue', () => {
  let app: AppProcess | undefined;

  afterAll(() => stopInstances('1', [app]));

  it('acknowledges every write during the outage, then publishes each event exactly once and consumes it once', async () => {
    const note = progress('1');
    await startGroupAtEnd(SINGLE_BROKER, GROUP);
    const from = await endOffsets(SINGLE_BROKER, USER_TOPICS);
    app = await AppProcess.start(appEnv(GROUP));
    note('app ready');

    // Creates and renames users (three events each) at a steady rate until told to stop.
    const load = new UserWriteLoad({ targets: () => [app!.url], ratePerSecond: 120, maxRequests: 5000, updatesPerUser: 2 }).start();
    let duringOutage = 0;
    try {
      await load.acknowledgedMore(150);
      await kafkaCtl('stop', 'single');
      note('broker stopped');
      const down = load.acknowledged.length;
      // Writes keep landing while the broker is down; the outbox holds their events.
      await load.acknowledgedMore(150, down);
      duringOutage = load.acknowledged.length - down;
    } finally {
      // Always back, whatever failed above: the broker is shared with everything on this machine.
      const before = load.acknowledged.length;
      await kafkaCtl('start', 'single');
      note('broker started');
      duringOutage += load.acknowledged.length - before;
    }
    await load.acknowledgedMore(150);
    await load.stop();
    note('load stopped');

    const settled = await settleUserWrites(load);
    note('pipeline settled');
    const records = await readSince(SINGLE_BROKER, USER_TOPICS, from);
    note('records read back');
    const t = await tallyUserWrites(load, records);
    report('1 broker-stop', {
      accepted: t.accepted,
      stored: t.stored,
      published: t.published,
      consumed: t.consumed,
      lost: t.lost,
      // The app did not crash, so the promise is exactly one record per event, not just one effect.
      duplicated: t.duplicateRecords,
      requests: load.requests,
      refused: load.refusedSummary(),
      duringOutage,
      records: t.records,
      outOfOrder: t.outOfOrder,
      deadLettered: t.deadLettered,
    });

    expect({ settled, lastWords: settled ? '' : lastWords(app) }).toEqual({ settled: true, lastWords: '' });
    expect(load.refused).toBe(0);
    expect(t).toMatchObject({ lost: 0, duplicateRecords: 0, outOfOrder: 0, unacknowledgedStored: 0 });
    expect([t.stored, t.published, t.consumed]).toEqual([t.accepted, t.accepted, t.accepted]);
  });
});
