import { Topics } from '../src/events';
import { E2eApp, startE2eApp } from './support/e2e-app';
import { aUser } from './support/factories';
import { KafkaProbe, ReadRecord } from './support/kafka';

describe('Users over HTTP, each change published to Kafka', () => {
  let e2e: E2eApp;
  let probe: KafkaProbe;

  beforeAll(async () => {
    probe = await KafkaProbe.start([Topics.UserCreated, Topics.UserUpdated, Topics.UserDeleted]);
    e2e = await startE2eApp();
  });
  afterAll(async () => {
    await e2e?.close();
    await probe?.stop();
  });

  const eventFor = (topic: string, id: number, version: number) =>
    probe.next(`${topic} for user ${id} v${version}`, (r) => r.topic === topic && r.key === String(id) && r.headers.ce_entityversion === String(version));

  function expectCloudEventHeaders(record: ReadRecord, type: string, id: number) {
    expect(record.headers).toMatchObject({
      ce_specversion: '1.0',
      ce_type: type,
      ce_source: '/nestream/users',
      ce_subject: String(id),
      'content-type': 'application/json',
    });
    expect(record.headers.ce_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(record.headers.ce_time).toString()).not.toBe('Invalid Date');
  }

  it('creates a user and publishes user_created keyed by id with the plain entity JSON and CloudEvents headers', async () => {
    const body = aUser();
    const res = await e2e.http.post('/users').send(body).expect(201);
    expect(res.body).toMatchObject({ name: body.name, email: body.email, version: 1 });
    expect(res.body.id).toEqual(expect.any(Number));
    expect(res.body.createdAt).toEqual(res.body.updatedAt);

    const record = await eventFor(Topics.UserCreated, res.body.id, 1);
    expect(JSON.parse(record.value!)).toEqual(res.body);
    expectCloudEventHeaders(record, 'user_created', res.body.id);
  });

  it('replaces with PUT (a missing email is cleared) and publishes user_updated', async () => {
    const created = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
    const res = await e2e.http.put(`/users/${created.id}`).send({ name: 'King' }).expect(200);
    expect(res.body).toMatchObject({ id: created.id, name: 'King', email: null, version: 2 });

    const record = await eventFor(Topics.UserUpdated, created.id, 2);
    expect(JSON.parse(record.value!)).toEqual(res.body);
    expectCloudEventHeaders(record, 'user_updated', created.id);
  });

  it('patches only the fields given', async () => {
    const created = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
    const res = await e2e.http.patch(`/users/${created.id}`).send({ name: 'Renamed' }).expect(200);
    expect(res.body).toMatchObject({ name: 'Renamed', email: created.email, version: 2 });
    expect((await e2e.http.get(`/users/${created.id}`).expect(200)).body).toEqual(res.body);
  });

  it('deletes with 204, then 404, and publishes user_deleted with the last state', async () => {
    const created = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
    await e2e.http.delete(`/users/${created.id}`).expect(204);
    await e2e.http.get(`/users/${created.id}`).expect(404);
    await e2e.http.delete(`/users/${created.id}`).expect(404);

    const record = await eventFor(Topics.UserDeleted, created.id, 2);
    expect(JSON.parse(record.value!)).toMatchObject({ id: created.id, name: created.name, version: 2 });
    expectCloudEventHeaders(record, 'user_deleted', created.id);
  });

  it('publishes the events of one user in the order they happened', async () => {
    const created = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
    for (let i = 1; i <= 5; i += 1) await e2e.http.patch(`/users/${created.id}`).send({ name: `n${i}` }).expect(200);
    await eventFor(Topics.UserUpdated, created.id, 6);
    const updates = probe.records.filter((r) => r.topic === Topics.UserUpdated && r.key === String(created.id));
    expect(updates.map((r) => JSON.parse(r.value!).name)).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    expect(new Set(updates.map((r) => r.partition)).size).toBe(1);
  });

  it('lists users in a stable id order with a cursor', async () => {
    for (let i = 0; i < 3; i += 1) await e2e.http.post('/users').send(aUser()).expect(201);
    const first = (await e2e.http.get('/users?limit=2').expect(200)).body;
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).toBe(first.items[1].id);
    const second = (await e2e.http.get(`/users?limit=2&after=${first.nextCursor}`).expect(200)).body;
    expect(second.items[0].id).toBeGreaterThan(first.items[1].id);
    const ids = [...first.items, ...second.items].map((u: { id: number }) => u.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it('records every change in the event log in the same transaction as the row', async () => {
    const created = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
    await e2e.http.patch(`/users/${created.id}`).send({ name: 'Logged' }).expect(200);
    const rows = await e2e.db.query(
      `SELECT type, version, payload->>'name' AS name, origin FROM event_log WHERE entity_type = 'user' AND entity_id = $1 ORDER BY position`,
      [String(created.id)],
    );
    expect(rows).toEqual([
      { type: 'user_created', version: 1, name: created.name, origin: 'nestream' },
      { type: 'user_updated', version: 2, name: 'Logged', origin: 'nestream' },
    ]);
  });
});
