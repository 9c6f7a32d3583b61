import { Topics } from '../../src/events';
import { AppProcess } from '../support/app-process';
import { waitFor } from '../support/wait-for';
import { appEnv, lastWords, stopInstances } from './support/apps';
import { postgres, SINGLE_BROKER } from './support/infra';
import { endOffsets, startGroupAtEnd } from './support/kafka-ledger';
import { OutsideOrders, UserWriteLoad } from './support/load';
import { progress, report } from './support/summary';
import { mixedLoadCounts, settleAndTally, USER_TOPICS } from './support/tally';

const GROUP = 'nestream-faults-3';

async function health(app: AppProcess): Promise<{ ready: number; live: number; body: any }> {
  const [ready, live] = await Promise.all([
    fetch(`${app.url}/health/ready`, { signal: AbortSignal.timeout(10_000) }),
    fetch(`${app.url}/health/live`, { signal: AbortSignal.timeout(10_000) }),
  ]);
  return { ready: ready.status, live: live.status, body: await ready.json() };
}

describe('fault 3: PostgreSQL is restarted under load', () => {
  let app: AppProcess | undefined;
  let outside: OutsideOrders | undefined;

  afterAll(async () => {
    await outside?.close();
    await stopInstances('3', [app]);
  });

  it('shows the outage in readiness, recovers on its own, and loses no acknowledged write', async () => {
    const note = progress('3');
    const topics = [...USER_TOPICS, Topics.OrderPlaced];
    await startGroupAtEnd(SINGLE_BROKER, GROUP);
    const from = await endOffsets(SINGLE_BROKER, topics);
    app = await AppProcess.start(appEnv(GROUP));
    note('app ready');

    // HTTP writes (the write side) and an outside producer's orders (the consumers) both run through the restart.
    const load = new UserWriteLoad({ targets: () => [app!.url], ratePerSecond: 80, maxRequests: 5000 }).start();
    outside = (await OutsideOrders.connect(SINGLE_BROKER)).startStream(30);
    await load.acknowledgedMore(200);

    let outage: { ready: number; live: number; body: any } | undefined;
    const before = load.acknowledged.length;
    try {
      await postgres.ctl('stop');
      note('postgres stopped');
      outage = await waitFor(
        'readiness to report the database down',
        async () => {
          const h = await health(app!);
          return h.ready === 503 ? h : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
    } finally {
      // Always back within seconds: the server is shared with everything on this machine.
      await postgres.ctl('start');
      note('postgres started');
    }
    const recovered = await waitFor('readiness to recover without a restart', async () => ((await health(app!)).ready === 200 ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    note('app ready again');
    const acknowledgedAcrossRestart = load.acknowledged.length - before;
    await load.acknowledgedMore(200);
    await Promise.all([load.stop(), outside.stopStream()]);
    note('load stopped');

    const { settled, t, o, unsettled } = await settleAndTally(load, outside, SINGLE_BROKER, topics, from, GROUP);
    note('pipeline settled');
    report('3 postgres-restart', {
      ...mixedLoadCounts(load, outside, t, o),
      acknowledgedAcrossRestart,
      readinessDuringOutage: outage ? `${outage.ready}/database:${outage.body?.error?.database?.status ?? outage.body?.details?.database?.status}` : '-',
      liveDuringOutage: outage?.live ?? '-',
    });

    expect(outage).toMatchObject({ ready: 503, live: 200, body: { error: { database: { status: 'down' } } } });
    expect(recovered).toBe(true);
    expect({ settled, unsettled, lastWords: settled ? '' : lastWords(app) }).toEqual({ settled: true, unsettled: '', lastWords: '' });
    expect(t).toMatchObject({ lost: 0, outOfOrder: 0 });
    expect(o).toMatchObject({ lost: 0, duplicatedEffects: 0 });
    expect([t.published, t.consumed]).toEqual([t.stored, t.stored]);
  });
});
