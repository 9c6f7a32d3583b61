import { deadLetterTopicOf, Topics } from '../src/events';
import { RELAY_CONSUMER, RELAY_LOCK } from '../src/messaging/outbox/outbox-relay.service';
import { OutboxService } from '../src/messaging/outbox/outbox.service';
import { UnitOfWork } from '../src/messaging/unit-of-work';
import { E2eApp, startE2eApp } from './support/e2e-app';
import { anOutsideId, aUser, unique } from './support/factories';
import { KafkaProbe } from './support/kafka';
import { waitFor } from './support/wait-for';

describe('Outbox relay', () => {
  let e2e: E2eApp;
  let probe: KafkaProbe;

  beforeAll(async () => {
    probe = await KafkaProbe.start([Topics.UserCreated, deadLetterTopicOf(Topics.UserCreated)]);
    e2e = await startE2eApp();
  });
  afterAll(async () => {
    await e2e?.close();
    await probe?.stop();
  });

  it('publishes a row whose id was allocated first but committed last (sequences commit out of order)', async () => {
    const uow = e2e.app.get(UnitOfWork);
    const lateId = anOutsideId();
    const lateName = unique('late');
    let rowWritten!: () => void;
    let commit!: () => void;
    const written = new Promise<void>((resolve) => (rowWritten = resolve));
    const gate = new Promise<void>((resolve) => (commit = resolve));

    // Transaction A takes the lower outbox id and stays open.
    const late = uow.run(async (tx) => {
      // A user_created of the current schema version (2), which always carries email and version.
      await tx.publish({ type: 'user_created', entityId: lateId, version: 1, payload: { id: lateId, name: lateName, email: null, version: 1 }, occurredAt: new Date() });
      rowWritten();
      await gate;
    });
    await written;

    // Transaction B takes a higher id, commits and is published while A is still open.
    const early = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
    await probe.next('the early event', (r) => r.key === String(early.id));
    expect(probe.records.some((r) => r.key === String(lateId))).toBe(false);

    commit();
    await late;
    const record = await probe.next('the late-committed event', (r) => r.key === String(lateId));
    expect(JSON.parse(record.value!)).toEqual({ id: lateId, name: lateName, email: null, version: 1 });

    const positions = await e2e.db.query(
      `SELECT entity_id FROM event_log WHERE entity_type = 'user' AND entity_id = ANY($1) ORDER BY position`,
      [[String(lateId), String(early.id)]],
    );
    expect(positions.map((r: { entity_id: string }) => r.entity_id)).toEqual([String(lateId), String(early.id)]);
  });

  it('deletes published rows, leaving the outbox empty', async () => {
    const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
    await probe.next('the new user event', (r) => r.key === String(user.id));
    await waitFor('an empty outbox', async () => (await e2e.db.query('SELECT count(*)::int AS n FROM outbox'))[0].n === 0);
  });

  it('sets aside a row the broker refuses for its size and publishes the rows around it, so nothing waits behind it', async () => {
    const outbox = e2e.app.get(OutboxService);
    // A dead-letter topic: its records carry outside values of any size, the likeliest to be refused.
    const topic = deadLetterTopicOf(Topics.UserCreated);
    const marker = unique('refused');
    const tag = (name: string) => `${marker}:${name}`;
    await waitFor('an empty outbox', async () => (await e2e.db.query('SELECT count(*)::int AS n FROM outbox'))[0].n === 0);
    // The relay waits while the rows are written, so they leave in one batch. Under one key, a and b fit
    // the broker's 1 MiB limit alone but not together in their partition's share of the batch; huge fits nowhere.
    const pause = e2e.db.createQueryRunner();
    await pause.query('SELECT pg_advisory_lock($1)', [RELAY_LOCK]);
    try {
      for (const [name, size] of [['a', 700_000], ['b', 700_000], ['huge', 1_200_000], ['after', 10]] as const) {
        await outbox.enqueue(e2e.db.manager, { topic, key: marker, value: Buffer.alloc(size, 'x'), headers: { 'x-test': tag(name) } });
      }
    } finally {
      await pause.query('SELECT pg_advisory_unlock($1)', [RELAY_LOCK]);
      await pause.release();
    }

    for (const name of ['a', 'b', 'after']) await probe.next(`record ${name}`, (r) => r.headers['x-test'] === tag(name), 60_000);
    await waitFor('an empty outbox', async () => (await e2e.db.query('SELECT count(*)::int AS n FROM outbox'))[0].n === 0);
    const dead = await e2e.db.query(
      `SELECT "partition", length(value) AS size, reason FROM dead_letters WHERE consumer = $1 AND topic = $2 AND headers->>'x-test' = $3`,
      [RELAY_CONSUMER, topic, tag('huge')],
    );
    expect(dead).toEqual([{ partition: -1, size: 1_200_000, reason: expect.stringMatching(/^the broker refused the record: /) }]);
    expect(probe.records.some((r) => r.headers['x-test'] === tag('huge'))).toBe(false);
  });

  it('says more rows wait when a concurrent commit thinned its window, so the relay does not sleep on them', async () => {
    const outbox = e2e.app.get(OutboxService);
    await waitFor('an empty outbox', async () => (await e2e.db.query('SELECT count(*)::int AS n FROM outbox'))[0].n === 0);
    // The app's relay is kept out by its own lock; the test plays a second relay under another key.
    const pause = e2e.db.createQueryRunner();
    const other = e2e.db.createQueryRunner();
    const taker = e2e.db.createQueryRunner();
    try {
      await pause.query('SELECT pg_advisory_lock($1)', [RELAY_LOCK]);
      for (const n of [1, 2, 3]) {
        await outbox.enqueue(e2e.db.manager, { topic: 'outbox_take_test', key: String(n), value: Buffer.from('{}'), headers: {} });
      }
      // By the bigint, not the text it is read as (which sorts 10 before 8).
      const ids: string[] = (await e2e.db.query(`SELECT id::text AS id FROM outbox ORDER BY outbox.id`)).map((r: { id: string }) => r.id);
      expect(ids).toHaveLength(3);
      // The other relay has deleted the first row and not yet committed.
      await other.startTransaction();
      await other.query('DELETE FROM outbox WHERE id = $1', [ids[0]]);

      await taker.startTransaction();
      const [{ pid }] = await taker.query('SELECT pg_backend_pid() AS pid');
      // Its window (rows 1 and 2) is read before the other relay commits.
      const taking = outbox.take(taker.manager, RELAY_LOCK + 1, 2);
      await waitFor('the take to wait on the row being deleted', async () => {
        const [{ blocked }] = await e2e.db.query('SELECT cardinality(pg_blocking_pids($1)) > 0 AS blocked', [pid]);
        return blocked;
      });
      await other.commitTransaction();
      const taken = await taking;
      expect(taken).not.toBe('busy');
      const { rows, more } = taken as Exclude<typeof taken, 'busy'>;
      expect(rows.map((r) => r.id)).toEqual([ids[1]]);
      expect(more).toBe(true);
      await taker.commitTransaction();
    } finally {
      if (taker.isTransactionActive) await taker.rollbackTransaction();
      if (other.isTransactionActive) await other.rollbackTransaction();
      await e2e.db.query(`DELETE FROM outbox WHERE topic = 'outbox_take_test'`);
      await pause.query('SELECT pg_advisory_unlock($1)', [RELAY_LOCK]);
      await Promise.all([pause.release(), other.release(), taker.release()]);
    }
  });
});
