import { deadLetterTopicOf, Topics } from '../src/events';
import { recordId } from '../src/messaging/envelope';
import { consumerGroupId, ConsumerGroups } from '../src/messaging/kafka/consumer-groups';
import { UnitOfWork } from '../src/messaging/unit-of-work';
import { MAX_OUTSIDE_ID } from '../src/persistence/id-sequence';
import { toUser } from '../src/users/user';
import { UserEntity } from '../src/users/user.entity';
import { endOffsets, waitForCommittedPast } from './support/consumer-group';
import { E2eApp, startE2eApp } from './support/e2e-app';
import { anOutsideId, aUser, unique } from './support/factories';
import { KafkaProbe, OutsideProducer } from './support/kafka';
import { waitFor } from './support/wait-for';

describe('Events written by producers outside Nestream', () => {
  let e2e: E2eApp;
  let outside: OutsideProducer;
  let dlq: KafkaProbe;
  let published: KafkaProbe;

  beforeAll(async () => {
    dlq = await KafkaProbe.start([deadLetterTopicOf(Topics.UserCreated), deadLetterTopicOf(Topics.OrderPlaced)]);
    published = await KafkaProbe.start([Topics.UserCreated]);
    e2e = await startE2eApp();
    outside = await OutsideProducer.connect();
  });
  afterAll(async () => {
    await outside?.close();
    await e2e?.close();
    await dlq?.stop();
    await published?.stop();
  });

  const visible = (path: string) =>
    waitFor(`GET ${path} to answer 200`, async () => {
      const res = await e2e.http.get(path);
      return res.status === 200 ? res.body : undefined;
    });

  it("stores the origin document's plain user_created and order_placed (no headers) and serves them over HTTP", async () => {
    const id = anOutsideId();
    const name = unique('King');
    await outside.sendJson(Topics.UserCreated, { id, name });
    await outside.sendJson(Topics.OrderPlaced, { id, product: 'sofa', amount: 100000 });

    expect(await visible(`/users/${id}`)).toMatchObject({ id, name, email: null, version: 1 });
    expect(await visible(`/orders/${id}`)).toMatchObject({ id, product: 'sofa', amount: 100000, userId: null, status: 'placed' });
  });

  it('ingests a record at coordinates an earlier topic (or another cluster) used, though the inbox holds them', async () => {
    // What the inbox holds after the topic was created anew: the next offset of every partition
    // handled already, by the record that was there before (another timestamp), and as coordinates alone.
    const earlier = String(Date.now() - 86_400_000);
    const ids = (await endOffsets(Topics.OrderPlaced)).flatMap(({ partition, offset }) => [
      `kafka:${Topics.OrderPlaced}:${partition}:${offset}`,
      recordId(Topics.OrderPlaced, partition, offset, earlier),
    ]);
    await e2e.db.query(`INSERT INTO inbox (consumer, message_id) SELECT 'persistence.ingest', unnest($1::text[]) ON CONFLICT DO NOTHING`, [ids]);

    const id = anOutsideId();
    await outside.sendJson(Topics.OrderPlaced, { id, product: 'lamp', amount: 2500 });
    expect(await visible(`/orders/${id}`)).toMatchObject({ id, product: 'lamp', amount: 2500 });
  });

  it('applies an outside user_updated to the stored user', async () => {
    const id = anOutsideId();
    await outside.sendJson(Topics.UserCreated, { id, name: 'Before' });
    await visible(`/users/${id}`);
    await outside.sendJson(Topics.UserUpdated, { id, name: 'After' });
    const updated = await waitFor('the outside update', async () => {
      const body = (await e2e.http.get(`/users/${id}`)).body;
      return body.name === 'After' ? body : undefined;
    });
    expect(updated.version).toBe(2);
  });

  it('keeps outside events in the event log with origin "ingested"', async () => {
    const id = anOutsideId();
    await outside.sendJson(Topics.UserCreated, { id, name: 'Logged' });
    await visible(`/users/${id}`);
    const rows = await e2e.db.query(`SELECT type, origin, payload FROM event_log WHERE entity_type = 'user' AND entity_id = $1`, [String(id)]);
    expect(rows).toEqual([{ type: 'user_created', origin: 'ingested', payload: { id, name: 'Logged' } }]);
  });

  it('enriches an outside order that names a known user', async () => {
    const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
    const id = anOutsideId();
    await outside.sendJson(Topics.OrderPlaced, { id, userId: user.id, product: 'lamp', amount: 25.5 });
    const order = await waitFor('the outside order with its customer', async () => {
      const res = await e2e.http.get(`/orders/${id}`);
      return res.status === 200 && res.body.customer ? res.body : undefined;
    });
    expect(order).toMatchObject({ amount: 25.5, customer: { id: user.id, name: user.name, email: user.email } });
  });

  it('logs an outside order only after a write to its user already in flight, so the enrichment copies the customer a rebuild would', async () => {
    const user = (await e2e.http.post('/users').send(aUser({ name: 'Before' })).expect(201)).body;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let logged!: (pid: number) => void;
    const renamer = new Promise<number>((resolve) => (logged = resolve));
    // A rename as UsersService writes one, held open after its event has taken its log position.
    const rename = e2e.app.get(UnitOfWork).run(async (tx) => {
      const users = tx.em.getRepository(UserEntity);
      const row = await users.findOneOrFail({ where: { id: user.id }, lock: { mode: 'pessimistic_write' } });
      const saved = await users.save(Object.assign(row, { name: 'After', version: row.version + 1 }));
      await tx.publish({ type: 'user_updated', entityId: user.id, version: saved.version, payload: { ...toUser(saved) }, occurredAt: saved.updatedAt });
      const [{ pid }] = await tx.em.query(`SELECT pg_backend_pid() AS pid`);
      logged(pid);
      await gate;
    });
    const pid = await renamer;
    const id = anOutsideId();
    await outside.sendJson(Topics.OrderPlaced, { id, userId: user.id, product: 'lamp', amount: 25.5 });
    // The ingest waits for the rename to commit; without that wait the order is stored and enriched with 'Before'.
    const seen = await waitFor('the ingest to wait for the rename, or the order to be enriched', async () => {
      const [{ waiting }] = await e2e.db.query(`SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, [pid]);
      if (waiting > 0) return 'ingest waiting';
      const res = await e2e.http.get(`/orders/${id}`);
      return res.status === 200 && res.body.customer ? 'order enriched' : undefined;
    });
    release();
    await rename;

    const order = await waitFor('the outside order with its customer', async () => {
      const res = await e2e.http.get(`/orders/${id}`);
      return res.status === 200 && res.body.customer ? res.body : undefined;
    });
    const asOfNow = (await e2e.http.get(`/orders/${id}?at=${encodeURIComponent(new Date().toISOString())}`).expect(200)).body;
    // Time travel folds the customer from the log, as a rebuild does.
    expect(order.customer).toEqual(asOfNow.customer);
    expect(order.customer).toEqual({ id: user.id, name: 'After', email: user.email });
    expect(seen).toBe('ingest waiting');
  });

  it('spends no enrichment transaction on an outside order without a user (it has no customer to copy)', async () => {
    const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
    const key = unique('one-partition');
    const ceId = unique('evt-no-user');
    const id = anOutsideId();
    await outside.send(Topics.OrderPlaced, JSON.stringify({ id, product: 'sofa', amount: 100 }), key, { ce_id: ceId });
    // Same key, same partition: once this later order is enriched, the enrichment is past the first.
    const marker = anOutsideId();
    await outside.send(Topics.OrderPlaced, JSON.stringify({ id: marker, userId: user.id, product: 'lamp', amount: 1 }), key);
    await waitFor('the later order with its customer', async () => (await e2e.http.get(`/orders/${marker}`)).body.customer);

    const rows = await e2e.db.query(`SELECT consumer FROM inbox WHERE message_id = $1`, [ceId]);
    const consumers = rows.map((r: { consumer: string }) => r.consumer);
    expect(consumers).toContain('persistence.ingest');
    expect(consumers).not.toContain('orders.enrichment');
    expect(await visible(`/orders/${id}`)).toMatchObject({ id, userId: null });
  });

  it('recognises its own events and lets them go by: no transaction, not applied twice', async () => {
    const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
    const own = await published.next('our own user_created', (r) => r.key === String(user.id));
    // The ingest consumer's group commits a record's offset once the ingest consumer is done with it.
    await waitForCommittedPast(consumerGroupId(process.env.KAFKA_GROUP_ID!, ConsumerGroups.Persistence), own);
    const claimed = await e2e.db.query(`SELECT 1 FROM inbox WHERE consumer = 'persistence.ingest' AND message_id = $1`, [own.headers.ce_id]);
    expect(claimed).toHaveLength(0);
    const [{ n }] = await e2e.db.query(`SELECT count(*)::int AS n FROM event_log WHERE entity_type = 'user' AND entity_id = $1`, [String(user.id)]);
    expect(n).toBe(1);
    expect((await e2e.http.get(`/users/${user.id}`).expect(200)).body.version).toBe(1);
  });

  it('never applies a versioned outside event over newer state, even when it arrives on another topic later', async () => {
    const id = anOutsideId();
    const send = async (topic: string, name: string, version: number) => {
      const ceId = unique('ce');
      await outside.send(topic, JSON.stringify({ id, name }), String(id), {
        ce_specversion: '1.0',
        ce_id: ceId,
        ce_type: topic,
        ce_source: '/another-service/users',
        ce_entityversion: String(version),
      });
      await waitFor(`ingest of ${topic} v${version}`, async () => {
        const rows = await e2e.db.query(`SELECT 1 FROM inbox WHERE consumer = 'persistence.ingest' AND message_id = $1`, [ceId]);
        return rows.length === 1;
      });
    };

    await send(Topics.UserUpdated, 'third', 3);
    await send(Topics.UserCreated, 'first', 1);
    expect((await e2e.http.get(`/users/${id}`).expect(200)).body).toMatchObject({ name: 'third', version: 3 });

    await send(Topics.UserUpdated, 'fourth', 4);
    expect((await e2e.http.get(`/users/${id}`).expect(200)).body).toMatchObject({ name: 'fourth', version: 4 });
    const logged = await e2e.db.query(`SELECT version FROM event_log WHERE entity_type = 'user' AND entity_id = $1 ORDER BY position`, [String(id)]);
    expect(logged.map((r: { version: number }) => r.version)).toEqual([3, 4]);

    // Deleted at version 5: a late copy of an earlier version does not bring the user back.
    await e2e.http.delete(`/users/${id}`).expect(204);
    await send(Topics.UserCreated, 'resurrected', 4);
    await e2e.http.get(`/users/${id}`).expect(404);
    // A later version is a new life of the id, as the producer says.
    await send(Topics.UserCreated, 'again', 6);
    expect((await e2e.http.get(`/users/${id}`).expect(200)).body).toMatchObject({ name: 'again', version: 6 });
  });

  it('sets a poison message aside on <topic>.dlq with the reason and origin, and keeps the partition moving', async () => {
    const key = unique('poison');
    const next = anOutsideId();
    // Same key, so same partition: the good message can only be processed if the poison one did not block it.
    await outside.send(Topics.UserCreated, 'this is not json {', key);
    await outside.send(Topics.UserCreated, JSON.stringify({ id: next, name: 'after-poison' }), key);

    const letter = await dlq.next('the poison message on user_created.dlq', (r) => r.key === key);
    expect(letter.topic).toBe('user_created.dlq');
    expect(letter.value).toBe('this is not json {');
    expect(letter.headers['x-dlq-reason']).toMatch(/not JSON/);
    expect(letter.headers['x-original-topic']).toBe('user_created');
    expect(Number(letter.headers['x-original-partition'])).toBeGreaterThanOrEqual(0);
    expect(letter.headers['x-original-offset']).toMatch(/^\d+$/);

    expect(await visible(`/users/${next}`)).toMatchObject({ name: 'after-poison' });
  });

  it('keeps the key and headers of a dead letter as the bytes received, JSON ones included (Kafka Connect, Spring)', async () => {
    // Nest's Kafka parser turns JSON keys and header values into objects, which read back as "[object Object]".
    const key = JSON.stringify({ id: anOutsideId(), tag: unique('json-key') });
    const typesHeader = JSON.stringify({ contentType: 'java.lang.String' });
    await outside.send(Topics.UserCreated, 'not json either {', key, { spring_json_header_types: typesHeader });

    const letter = await dlq.next('the poison message with a JSON key', (r) => r.key === key);
    expect(letter.headers.spring_json_header_types).toBe(typesHeader);
    const [row] = await e2e.db.query(`SELECT key, headers FROM dead_letters WHERE key = $1`, [key]);
    expect(row.headers).toMatchObject({ spring_json_header_types: typesHeader });
  });

  it('lets a stale versioned outside order go by in the enrichment too, without retries or a dead letter', async () => {
    const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
    const id = anOutsideId();
    const send = async (version: number, product: string) => {
      const ceId = unique('ce');
      await outside.send(Topics.OrderPlaced, JSON.stringify({ id, userId: user.id, product, amount: 5 }), String(id), {
        ce_specversion: '1.0',
        ce_id: ceId,
        ce_type: Topics.OrderPlaced,
        ce_source: '/another-service/orders',
        ce_entityversion: String(version),
      });
      return ceId;
    };
    const claimedBy = async (consumer: string, ceId: string) =>
      (await e2e.db.query(`SELECT 1 FROM inbox WHERE consumer = $1 AND message_id = $2`, [consumer, ceId])).length === 1;

    const current = await send(2, 'newer');
    await waitFor('the enrichment of version 2', () => claimedBy('orders.enrichment', current));
    const stale = await send(1, 'older');
    await waitFor('the enrichment to let the stale version go by', () => claimedBy('orders.enrichment', stale));
    expect(await claimedBy('persistence.ingest', stale)).toBe(true);
    expect(await e2e.db.query(`SELECT 1 FROM dead_letters WHERE key = $1`, [String(id)])).toEqual([]);
    expect((await e2e.http.get(`/orders/${id}`).expect(200)).body).toMatchObject({ product: 'newer', version: 2, customer: { id: user.id } });
  });

  it('dead-letters an outside id past MAX_OUTSIDE_ID, so the id sequence stays where Nestream can still hand out ids', async () => {
    const key = unique('huge-id');
    await outside.send(Topics.UserCreated, JSON.stringify({ id: Number.MAX_SAFE_INTEGER, name: 'too far' }), key);
    const letter = await dlq.next('the outside user with the huge id', (r) => r.key === key);
    expect(letter.headers['x-dlq-reason']).toContain(`above ${MAX_OUTSIDE_ID}`);
    const created = (await e2e.http.post('/users').send({ name: unique('after-huge-id') }).expect(201)).body;
    expect(created.id).toBeLessThanOrEqual(MAX_OUTSIDE_ID);
    await e2e.http.get(`/users/${Number.MAX_SAFE_INTEGER}`).expect(404);
  });

  it('dead-letters an event that does not fit its schema, naming the field', async () => {
    const key = unique('bad-shape');
    await outside.send(Topics.OrderPlaced, JSON.stringify({ id: anOutsideId(), product: 'sofa', amount: 'lots' }), key);
    const letter = await dlq.next('the misshapen order on order_placed.dlq', (r) => r.key === key);
    expect(letter.headers['x-dlq-reason']).toMatch(/order_placed schema: amount must be number/);
    // One dead letter even though two consumers (ingest and enrichment) read order_placed.
    const rows = await e2e.db.query(`SELECT consumer FROM dead_letters WHERE key = $1`, [key]);
    expect(rows).toEqual([{ consumer: '*' }]);
  });
});
