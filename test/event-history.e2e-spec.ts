import { randomUUID } from 'node:crypto';
import { deadLetterTopicOf, Topics } from '../src/events';
import { UnitOfWork } from '../src/messaging/unit-of-work';
import { FoldService } from '../src/persistence/event-log/fold.service';
import { userFold } from '../src/users/user.fold';
import { UsersService } from '../src/users/users.service';
import { E2eApp, startE2eApp } from './support/e2e-app';
import { anOrder, anOutsideId, aUser, unique } from './support/factories';
import { KafkaProbe, OutsideProducer } from './support/kafka';
import { waitFor } from './support/wait-for';

interface HistoryItem {
  position: number;
  type: string;
  version: number;
  occurredAt: string;
  payload: Record<string, unknown>;
  metadata: Record<string, unknown>;
  dataschema: string;
  writtenWithSchemaVersion: number;
}

/** Waits until the clock has passed an instant, so the next write happens strictly after it (no fixed sleep). */
const after = (iso: string) => waitFor(`the clock to pass ${iso}`, () => Date.now() > new Date(iso).getTime() + 1, { intervalMs: 1 });
const plus = (iso: string, ms: number) => new Date(new Date(iso).getTime() + ms).toISOString();

describe('Event log: history, time travel, optimistic concurrency and versioned schemas', () => {
  let e2e: E2eApp;
  let probe: KafkaProbe;
  let dlq: KafkaProbe;
  let outside: OutsideProducer;

  beforeAll(async () => {
    probe = await KafkaProbe.start([Topics.UserCreated]);
    dlq = await KafkaProbe.start([deadLetterTopicOf(Topics.UserCreated)]);
    e2e = await startE2eApp();
    outside = await OutsideProducer.connect();
  });
  afterAll(async () => {
    await outside?.close();
    await e2e?.close();
    await probe?.stop();
    await dlq?.stop();
  });

  const history = async (path: string): Promise<HistoryItem[]> => (await e2e.http.get(path).expect(200)).body.items;

  describe('history', () => {
    it("lists a user's events in order with type, version, time, payload and metadata, also after deletion", async () => {
      const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
      await e2e.http.patch(`/users/${user.id}`).send({ name: 'Renamed' }).expect(200);
      await e2e.http.delete(`/users/${user.id}`).expect(204);

      const items = await history(`/users/${user.id}/history`);

      expect(items.map((i) => [i.type, i.version])).toEqual([
        ['user_created', 1],
        ['user_updated', 2],
        ['user_deleted', 3],
      ]);
      expect(items[0].payload).toEqual(user);
      expect(items[1].payload).toMatchObject({ name: 'Renamed', version: 2 });
      expect(items[0].metadata).toMatchObject({ ce_type: 'user_created', ce_subject: String(user.id), ce_dataschema: 'urn:nestream:schema:user_created:2' });
      expect(items[0].position).toBeLessThan(items[1].position);
      expect(new Date(items[0].occurredAt).toISOString()).toBe(items[0].occurredAt);
    });

    it('pages through a long history by position', async () => {
      const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
      for (let i = 1; i <= 4; i += 1) await e2e.http.patch(`/users/${user.id}`).send({ name: `n${i}` }).expect(200);

      const first = (await e2e.http.get(`/users/${user.id}/history?limit=2`).expect(200)).body;
      const second = (await e2e.http.get(`/users/${user.id}/history?limit=2&after=${first.nextCursor}`).expect(200)).body;
      const third = (await e2e.http.get(`/users/${user.id}/history?limit=2&after=${second.nextCursor}`).expect(200)).body;

      expect([...first.items, ...second.items, ...third.items].map((i: HistoryItem) => i.version)).toEqual([1, 2, 3, 4, 5]);
      expect(first.nextCursor).toBe(first.items[1].position);
      expect(third.nextCursor).toBeNull();
    });

    it("lists an order's events, and answers 404 for an id the log has never seen", async () => {
      const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
      const order = (await e2e.http.post('/orders').send(anOrder(user.id)).expect(201)).body;
      await e2e.http.patch(`/orders/${order.id}`).send({ status: 'paid' }).expect(200);
      await e2e.http.delete(`/orders/${order.id}`).expect(200);

      expect((await history(`/orders/${order.id}/history`)).map((i) => i.type)).toEqual(['order_placed', 'order_updated', 'order_cancelled']);
      const missing = await e2e.http.get('/orders/987654321/history').expect(404);
      expect(missing.body.message).toBe('order 987654321 has no history');
      await e2e.http.get('/users/1/history?limit=500').expect(400);
    });
  });

  describe('time travel', () => {
    it('answers GET /users/:id?at= before creation, between updates, before and after deletion', async () => {
      const created = (await e2e.http.post('/users').send(aUser({ name: 'First' })).expect(201)).body;
      await after(created.createdAt);
      const second = (await e2e.http.put(`/users/${created.id}`).send({ name: 'Second', email: null }).expect(200)).body;
      await after(second.updatedAt);
      const third = (await e2e.http.patch(`/users/${created.id}`).send({ name: 'Third' }).expect(200)).body;
      await after(third.updatedAt);
      await e2e.http.delete(`/users/${created.id}`).expect(204);
      const deletedAt = (await history(`/users/${created.id}/history`))[3].occurredAt;
      const at = (iso: string) => e2e.http.get(`/users/${created.id}?at=${encodeURIComponent(iso)}`);

      const before = await at(plus(created.createdAt, -1)).expect(404);
      expect(before.body.message).toBe(`user ${created.id} did not exist yet at ${plus(created.createdAt, -1)}`);
      expect((await at(created.createdAt).expect(200)).body).toEqual(created);
      expect((await at(second.updatedAt).expect(200)).body).toEqual(second);
      expect((await at(plus(third.updatedAt, -1)).expect(200)).body).toEqual(second);
      expect((await at(plus(deletedAt, -1)).expect(200)).body).toEqual(third);
      const gone = await at(deletedAt).expect(404);
      expect(gone.body.message).toBe(`user ${created.id} was deleted at ${deletedAt}`);
      await e2e.http.get(`/users/${created.id}`).expect(404);
    });

    it("reads an outside change as of when it was stored, not as of the producer's clock", async () => {
      const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
      const before = new Date();
      // A producer whose clock (or ce_time) says the change happened years before it reached Nestream.
      await outside.send(Topics.UserUpdated, JSON.stringify({ id: user.id, name: 'renamed late' }), String(user.id), { ce_time: '2020-01-01T00:00:00Z' });
      await waitFor('the outside rename', async () => (await e2e.http.get(`/users/${user.id}`).expect(200)).body.name === 'renamed late');

      expect((await e2e.http.get(`/users/${user.id}`).query({ at: before.toISOString() }).expect(200)).body).toMatchObject({ name: user.name, version: 1 });
    });

    it('folds to exactly what GET answers now', async () => {
      const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
      await e2e.http.patch(`/users/${user.id}`).send({ email: `${unique('new')}@example.com` }).expect(200);
      const live = (await e2e.http.get(`/users/${user.id}`).expect(200)).body;

      expect((await e2e.http.get(`/users/${user.id}?at=${encodeURIComponent(new Date().toISOString())}`).expect(200)).body).toEqual(live);
    });

    it('answers GET /orders/:id?at= with the order and the customer as of its placement', async () => {
      const user = (await e2e.http.post('/users').send(aUser({ name: 'Buyer' })).expect(201)).body;
      const placed = (await e2e.http.post('/orders').send(anOrder(user.id)).expect(201)).body;
      // Renamed right away: the enrichment still copies the name the user had when the order was placed.
      await e2e.http.patch(`/users/${user.id}`).send({ name: 'Buyer Renamed' }).expect(200);
      await after(placed.updatedAt);
      const paid = (await e2e.http.patch(`/orders/${placed.id}`).send({ status: 'paid' }).expect(200)).body;
      await after(paid.updatedAt);
      const shipped = (await e2e.http.patch(`/orders/${placed.id}`).send({ status: 'shipped' }).expect(200)).body;
      const customer = { id: user.id, name: 'Buyer', email: user.email };
      const live = await waitFor('the enriched order', async () => {
        const body = (await e2e.http.get(`/orders/${placed.id}`).expect(200)).body;
        return body.customer ? body : undefined;
      });
      const at = (iso: string) => e2e.http.get(`/orders/${placed.id}?at=${encodeURIComponent(iso)}`);

      expect(live.customer).toEqual(customer);
      await at(plus(placed.createdAt, -1)).expect(404);
      expect((await at(placed.createdAt).expect(200)).body).toEqual({ ...placed, customer });
      expect((await at(plus(shipped.updatedAt, -1)).expect(200)).body).toEqual({ ...paid, customer });
      expect((await at(shipped.updatedAt).expect(200)).body).toEqual(live);
    });

    it('refuses an instant that is not ISO 8601, naming at', async () => {
      const res = await e2e.http.get('/users/1?at=yesterday').expect(400);
      expect(res.body.errors).toEqual([{ field: 'at', messages: ['at must be an ISO 8601 date-time with its time zone, such as 2026-11-25T10:00:00Z'] }]);
    });

    it('starts from a snapshot for a long history and folds the same state as from the first event', async () => {
      const users = e2e.app.get(UsersService);
      const folds = e2e.app.get(FoldService);
      const user = await users.create(aUser());
      for (let i = 1; i < 250; i += 1) await users.patch(user.id, { name: `name-${i}` });
      const id = String(user.id);

      const first = await folds.stateOf(userFold, id);
      const again = await folds.stateOf(userFold, id);
      const snapshots = await e2e.db.query(`SELECT events FROM snapshots WHERE entity_type = 'user' AND entity_id = $1 ORDER BY position`, [id]);
      await e2e.db.query(`DELETE FROM snapshots WHERE entity_type = 'user' AND entity_id = $1`, [id]);
      const fromScratch = await folds.stateOf(userFold, id, {}, e2e.db.manager);

      expect(first).toMatchObject({ events: 250, read: 250, snapshotPosition: null });
      expect(snapshots).toEqual([{ events: 100 }, { events: 200 }]);
      expect(again.snapshotPosition).not.toBeNull();
      expect(again).toMatchObject({ events: 250, read: 50 });
      expect(again.state).toEqual(first.state);
      expect(fromScratch.state).toEqual(first.state);
      expect(first.state!.user).toEqual(await users.get(user.id));
    });

    it('folds many (entity, position) pairs at once to what one fold per pair gives, from snapshots too', async () => {
      const users = e2e.app.get(UsersService);
      const folds = e2e.app.get(FoldService);
      const long = await users.create(aUser());
      for (let i = 1; i < 150; i += 1) await users.patch(long.id, { name: `long-${i}` });
      const short = await users.create(aUser());
      await users.patch(short.id, { name: 'short-2' });
      await users.remove(short.id);
      const positions = async (id: number) =>
        (await e2e.db.query(`SELECT position FROM event_log WHERE entity_type = 'user' AND entity_id = $1 ORDER BY position`, [String(id)])).map(
          (r: { position: string }) => Number(r.position),
        );
      const [longAt, shortAt] = [await positions(long.id), await positions(short.id)];
      // Before the first event, in the middle, at and after the last; for both users, interleaved. A state
      // "before position p" holds the events logged before p: before longAt[120] is after longAt[119].
      const requests = [
        { entityId: String(long.id), position: longAt[120] },
        { entityId: String(short.id), position: shortAt[0] },
        { entityId: String(long.id), position: longAt[0] },
        { entityId: String(short.id), position: shortAt[2] },
        { entityId: String(long.id), position: longAt[149] + 1 },
        { entityId: String(short.id), position: shortAt[2] + 1 },
        { entityId: String(long.id), position: longAt[30] },
      ];

      const together = await folds.statesBefore(userFold, requests, e2e.db.manager);
      // The first batch fold saved a snapshot of the long history; the second starts from it.
      const snapshots = await e2e.db.query(`SELECT events FROM snapshots WHERE entity_type = 'user' AND entity_id = $1 ORDER BY position`, [String(long.id)]);
      const again = await folds.statesBefore(userFold, requests, e2e.db.manager);
      const oneByOne = [];
      for (const r of requests) oneByOne.push((await folds.stateOf(userFold, r.entityId, { beforePosition: r.position }, e2e.db.manager)).state);

      expect(snapshots).toEqual([{ events: 100 }]);
      expect(together).toEqual(oneByOne);
      expect(again).toEqual(oneByOne);
      expect(together.map((s) => s?.user.name ?? null)).toEqual(['long-119', null, null, 'short-2', 'long-149', 'short-2', 'long-29']);
      expect(together[5]!.deletedAt).not.toBeNull();
    });

    it('answers a time-travel GET from a snapshot, as the snapshot it finds shows', async () => {
      const users = e2e.app.get(UsersService);
      const user = await users.create(aUser());
      // 100 events: the snapshot the first fold saves is the whole history.
      for (let i = 1; i < 100; i += 1) await users.patch(user.id, { name: `v${i + 1}` });
      const now = encodeURIComponent(new Date().toISOString());
      const folded = (await e2e.http.get(`/users/${user.id}?at=${now}`).expect(200)).body;
      // Tamper with the saved snapshot: an answer that shows it proves the fold started from it.
      await e2e.db.query(`UPDATE snapshots SET state = jsonb_set(state, '{user,email}', '"from-snapshot@example.com"') WHERE entity_type = 'user' AND entity_id = $1`, [
        String(user.id),
      ]);

      expect(folded).toEqual(await users.get(user.id));
      expect((await e2e.http.get(`/users/${user.id}?at=${now}`).expect(200)).body.email).toBe('from-snapshot@example.com');
    });
  });

  describe('optimistic concurrency', () => {
    it('gives the version as ETag and refuses a stale If-Match with 412', async () => {
      const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
      const read = await e2e.http.get(`/users/${user.id}`).expect(200);
      expect(read.headers.etag).toBe('"1"');

      const updated = await e2e.http.put(`/users/${user.id}`).set('If-Match', read.headers.etag).send({ name: 'Kept' }).expect(200);
      expect(updated.headers.etag).toBe('"2"');
      const stale = await e2e.http.put(`/users/${user.id}`).set('If-Match', '"1"').send({ name: 'Lost' }).expect(412);
      expect(stale.body).toEqual({
        statusCode: 412,
        error: 'Precondition Failed',
        message: `user ${user.id} is at version 2, not 1 as If-Match says; read it again and retry`,
        errors: [{ field: 'If-Match', messages: [`user ${user.id} is at version 2, not 1 as If-Match says; read it again and retry`] }],
      });
      await e2e.http.patch(`/users/${user.id}`).set('If-Match', 'W/"2"').send({ name: 'Weak tag' }).expect(200);
      await e2e.http.patch(`/users/${user.id}`).set('If-Match', 'not-a-tag').send({ name: 'x' }).expect(400);
      expect((await e2e.http.get(`/users/${user.id}`).expect(200)).body).toMatchObject({ name: 'Weak tag', version: 3 });
    });

    it('lets exactly one of two concurrent updates with the same If-Match through', async () => {
      const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;

      const answers = await Promise.all(
        ['Alice', 'Bob'].map((name) => e2e.http.patch(`/users/${user.id}`).set('If-Match', '"1"').send({ name })),
      );

      expect(answers.map((r) => r.status).sort()).toEqual([200, 412]);
      const winner = answers.find((r) => r.status === 200)!.body;
      expect((await e2e.http.get(`/users/${user.id}`).expect(200)).body).toMatchObject({ name: winner.name, version: 2 });
      expect((await history(`/users/${user.id}/history`)).map((i) => i.version)).toEqual([1, 2]);
    });

    it('applies every concurrent update without If-Match, one after the other, none lost', async () => {
      const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;

      await Promise.all([1, 2, 3, 4, 5].map((i) => e2e.http.patch(`/users/${user.id}`).send({ name: `w${i}` }).expect(200)));

      expect((await e2e.http.get(`/users/${user.id}`).expect(200)).body.version).toBe(6);
      expect((await history(`/users/${user.id}/history`)).map((i) => i.version)).toEqual([1, 2, 3, 4, 5, 6]);
    });

    it('refuses a stale If-Match on an order status change and cancellation', async () => {
      const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
      const order = (await e2e.http.post('/orders').send(anOrder(user.id)).expect(201)).body;
      expect((await e2e.http.get(`/orders/${order.id}`).expect(200)).headers.etag).toBe('"1"');

      await e2e.http.patch(`/orders/${order.id}`).set('If-Match', '"1"').send({ status: 'paid' }).expect(200);
      await e2e.http.patch(`/orders/${order.id}`).set('If-Match', '"1"').send({ status: 'shipped' }).expect(412);
      await e2e.http.delete(`/orders/${order.id}`).set('If-Match', '"1"').expect(412);
      expect((await e2e.http.get(`/orders/${order.id}`).expect(200)).body).toMatchObject({ status: 'paid', version: 2 });
    });
  });

  describe('versioned schemas', () => {
    it('lists every event type with its versions, and serves each schema file', async () => {
      const list = (await e2e.http.get('/schemas').expect(200)).body;
      const userCreated = list.find((s: { type: string }) => s.type === 'user_created');

      expect(userCreated).toMatchObject({ topic: 'user_created', deadLetterTopic: 'user_created.dlq', currentVersion: 2 });
      expect(userCreated.versions.map((v: { id: string }) => v.id)).toEqual(['urn:nestream:schema:user_created:1', 'urn:nestream:schema:user_created:2']);
      const v1 = await e2e.http.get('/schemas/user_created/1').expect(200);
      expect(v1.headers['content-type']).toMatch(/^application\/schema\+json/);
      expect(v1.body).toMatchObject({ $id: 'urn:nestream:schema:user_created:1', required: ['id', 'name'] });
      await e2e.http.get('/schemas/user_created/3').expect(404);
      await e2e.http.get('/schemas/no_such_event/1').expect(404);
      const bad = await e2e.http.get('/schemas/user_created/latest').expect(400);
      expect(bad.body.errors).toEqual([{ field: 'version', messages: ['version must be a positive integer'] }]);
    });

    it('publishes Nestream events with ce_dataschema naming the current version', async () => {
      const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;

      const record = await probe.next(`user_created for user ${user.id}`, (r) => r.key === String(user.id));

      expect(record.headers.ce_dataschema).toBe('urn:nestream:schema:user_created:2');
    });

    it('refuses to write an event that breaks its schema, and writes nothing', async () => {
      const id = anOutsideId();
      const publish = e2e.app.get(UnitOfWork).run((tx) =>
        tx.publish({ type: 'user_created', entityId: id, version: 1, payload: { id, name: 'No email field' }, occurredAt: new Date() }),
      );

      await expect(publish).rejects.toThrow(/^refusing to publish user_created: \(root\) must have required property 'email'/);
      const rows = await e2e.db.query(`SELECT 1 FROM event_log WHERE entity_type = 'user' AND entity_id = $1`, [String(id)]);
      expect(rows).toEqual([]);
    });

    it("reads an outside producer's version 1 event (no ce_dataschema) through the upcaster, and logs it as received", async () => {
      const id = anOutsideId();
      await outside.sendJson(Topics.UserCreated, { id, name: 'Plain' });

      const user = await waitFor('the outside user', async () => {
        const res = await e2e.http.get(`/users/${id}`);
        return res.status === 200 ? res.body : undefined;
      });
      expect(user).toMatchObject({ id, name: 'Plain', email: null, version: 1 });
      const [logged] = await e2e.db.query(`SELECT payload, schema_version FROM event_log WHERE entity_type = 'user' AND entity_id = $1`, [String(id)]);
      expect(logged).toEqual({ payload: { id, name: 'Plain' }, schema_version: 1 });
    });

    it('dead-letters an event whose ce_dataschema version it does not match, with the validation error', async () => {
      const key = unique('v2-without-email');
      await outside.send(Topics.UserCreated, JSON.stringify({ id: anOutsideId(), name: 'No email', version: 1 }), key, {
        ce_dataschema: 'urn:nestream:schema:user_created:2',
      });

      const letter = await dlq.next('the record on user_created.dlq', (r) => r.key === key);

      expect(letter.headers['x-dlq-reason']).toBe(
        "does not match the user_created schema: (root) must have required property 'email' (urn:nestream:schema:user_created:2)",
      );
    });

    it('reads stored version 1 events as version 2 in history and time travel', async () => {
      const id = anOutsideId();
      const occurredAt = new Date();
      // As the ingest stored an outside producer's user before user_created had a version 2: row and log entry in one transaction.
      await e2e.db.transaction(async (em) => {
        await em.query(`INSERT INTO users (id, name, email, version) VALUES ($1, 'Stored v1', NULL, 1)`, [id]);
        await em.query(
          `INSERT INTO event_log (event_id, type, entity_type, entity_id, version, payload, metadata, origin, occurred_at, schema_version)
           VALUES ($1, 'user_created', 'user', $2, 1, $3, '{}', 'ingested', $4, 1)`,
          [randomUUID(), String(id), JSON.stringify({ id, name: 'Stored v1' }), occurredAt],
        );
      });

      // An outside event counts for time travel from when it was stored.
      const storedBy = new Date();

      const [item] = await history(`/users/${id}/history`);
      const asOfThen = (await e2e.http.get(`/users/${id}?at=${encodeURIComponent(storedBy.toISOString())}`).expect(200)).body;

      expect(item).toMatchObject({
        payload: { id, name: 'Stored v1', email: null, version: 1 },
        writtenWithSchemaVersion: 1,
        dataschema: 'urn:nestream:schema:user_created:2',
      });
      expect(asOfThen).toMatchObject({ id, name: 'Stored v1', email: null, version: 1 });
      expect(asOfThen).toEqual((await e2e.http.get(`/users/${id}`).expect(200)).body);
    });
  });
});
