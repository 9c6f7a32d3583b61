import { Topics } from '../../src/events';
import { AppProcess } from '../support/app-process';
import { waitFor } from '../support/wait-for';
import { appEnv, lastWords, startInstances, stopInstances } from './support/apps';
import { SINGLE_BROKER } from './support/infra';
import { endOffsets, groupsStableWith, startGroupAtEnd } from './support/kafka-ledger';
import { OutsideOrders, UserWriteLoad } from './support/load';
import { progress, report } from './support/summary';
import { mixedLoadCounts, settleAndTally, USER_TOPICS } from './support/tally';

const GROUP = 'nestream-faults-2';

describe('fault 2: one of two instances is killed with SIGKILL while events flow', () => {
  let instances: AppProcess[] = [];
  let outside: OutsideOrders | undefined;

  afterAll(async () => {
    await outside?.close();
    await stopInstances('2', instances);
  });

  it('lets the survivor take over its partitions, losing nothing and applying no effect twice', async () => {
    const note = progress('2');
    const topics = [...USER_TOPICS, Topics.OrderPlaced];
    await startGroupAtEnd(SINGLE_BROKER, GROUP);
    const from = await endOffsets(SINGLE_BROKER, topics);
    // A shorter session timeout than the 30 s default: takeover after a crash follows it.
    instances = await startInstances(2, appEnv(GROUP, { KAFKA_SESSION_TIMEOUT_MS: '10000' }));
    const [survivor, victim] = instances;
    let alive = [survivor, victim];
    note('two instances ready');

    // Both relays publish (writes alternate between the instances) and both consume their share of
    // the partitions, including an outside producer's orders, whose effects would show a second application.
    const load = new UserWriteLoad({ targets: () => alive.map((a) => a.url), ratePerSecond: 60, maxRequests: 6000 }).start();
    outside = (await OutsideOrders.connect(SINGLE_BROKER)).startStream(40);
    await load.acknowledgedMore(300);

    await victim.stop('SIGKILL');
    alive = [survivor];
    const killedAt = Date.now();
    note('one instance killed');
    // Its partitions stay silent until the group notices it is gone (session timeout), then move over.
    await waitFor(
      'every consumer group to settle with the survivor alone',
      () => groupsStableWith(SINGLE_BROKER, GROUP, 1),
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    const takeoverSeconds = ((Date.now() - killedAt) / 1000).toFixed(1);
    note(`the survivor owns every partition (${takeoverSeconds} s after the kill)`);
    await load.acknowledgedMore(150);
    await Promise.all([load.stop(), outside.stopStream()]);
    note('load stopped');

    const { settled, t, o, unsettled } = await settleAndTally(load, outside, SINGLE_BROKER, topics, from, GROUP);
    note('pipeline settled');
    report('2 instance-kill', {
      ...mixedLoadCounts(load, outside, t, o),
      takeoverSeconds,
    });

    expect({ settled, unsettled, lastWords: settled ? '' : lastWords(survivor) }).toEqual({ settled: true, unsettled: '', lastWords: '' });
    expect(t).toMatchObject({ lost: 0, outOfOrder: 0 });
    expect(o).toMatchObject({ lost: 0, duplicatedEffects: 0 });
    expect([t.published, t.consumed]).toEqual([t.stored, t.stored]);
  });
});
