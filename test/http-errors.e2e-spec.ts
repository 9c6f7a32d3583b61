import { E2eApp, startE2eApp } from './support/e2e-app';
import { aUser } from './support/factories';

describe('Bad input gets a clear answer and changes nothing', () => {
  let e2e: E2eApp;

  beforeAll(async () => {
    e2e = await startE2eApp();
  });
  afterAll(() => e2e?.close());

  const countUsers = async () => (await e2e.db.query('SELECT count(*)::int AS n FROM users'))[0].n as number;

  it('rejects unknown fields with 400 naming each one', async () => {
    const res = await e2e.http.post('/users').send({ ...aUser(), role: 'admin' }).expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: 'Validation failed' });
    expect(res.body.errors).toEqual([{ field: 'role', messages: ['property role should not exist'] }]);
  });

  it('names every invalid field', async () => {
    const res = await e2e.http.post('/users').send({ name: '', email: 'not-an-email' }).expect(400);
    const fields = res.body.errors.map((e: { field: string }) => e.field).sort();
    expect(fields).toEqual(['email', 'name']);
  });

  it('answers 400 for malformed JSON and stores nothing', async () => {
    const before = await countUsers();
    const res = await e2e.http.post('/users').set('content-type', 'application/json').send('{"name": "King",').expect(400);
    expect(res.body.message).toMatch(/^Malformed JSON in request body: /);
    expect(await countUsers()).toBe(before);
  });

  it('answers 413 for a body over 1 MiB', async () => {
    const res = await e2e.http.post('/users').send({ name: 'x'.repeat(1024 * 1024 + 1) }).expect(413);
    expect(res.body.statusCode).toBe(413);
  });

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    const missing = await e2e.http.get('/users/987654321').expect(404);
    expect(missing.body.message).toBe('user 987654321 not found');
    await e2e.http.get('/orders/987654321').expect(404);
    for (const bad of ['abc', '0', '-1', '1.5', '99999999999999999999']) {
      const res = await e2e.http.get(`/users/${bad}`).expect(400);
      expect(res.body.errors).toEqual([{ field: 'id', messages: ['id must be a positive integer'] }]);
    }
  });

  it('answers 409 for a duplicate email, whatever its case', async () => {
    const body = aUser();
    await e2e.http.post('/users').send(body).expect(201);
    const res = await e2e.http.post('/users').send({ name: 'Other', email: body.email!.toUpperCase() }).expect(409);
    expect(res.body.errors).toEqual([{ field: 'email', messages: ['email is already in use'] }]);
  });

  it('rejects a body that is not an object', async () => {
    await e2e.http.post('/users').send([aUser()]).expect(400);
    await e2e.http.post('/orders').set('content-type', 'application/json').send('"just a string"').expect(400);
  });

  it('answers 400 for a text field holding the NUL character, which PostgreSQL cannot store', async () => {
    const before = await countUsers();
    const res = await e2e.http.post('/users').send({ name: 'Ki\u0000ng' }).expect(400);
    expect(res.body.errors).toEqual([{ field: 'name', messages: ['name must not contain the NUL character (\\u0000)'] }]);
    expect(await countUsers()).toBe(before);
    const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
    const order = await e2e.http.post('/orders').send({ userId: user.id, product: 'so\u0000fa', amount: 1 }).expect(400);
    expect(order.body.errors.map((e: { field: string }) => e.field)).toEqual(['product']);
  });

  it('answers 400 for a null name in PATCH /users/:id and leaves the user as it was', async () => {
    const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
    const res = await e2e.http.patch(`/users/${user.id}`).send({ name: null }).expect(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['name']);
    expect((await e2e.http.get(`/users/${user.id}`).expect(200)).body).toMatchObject({ name: user.name, version: user.version });
    // A null email still clears the email: only a field that cannot be empty is refused.
    await e2e.http.patch(`/users/${user.id}`).send({ email: null }).expect(200);
  });

  it('answers 400 for ISO 8601 dates that name no instant (week, ordinal and basic forms)', async () => {
    const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
    const order = (await e2e.http.post('/orders').send({ userId: user.id, product: 'lamp', amount: 1 }).expect(201)).body;
    for (const at of ['2026-W01', '2026-123', '20260519']) {
      const res = await e2e.http.get(`/users/${user.id}`).query({ at }).expect(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['at']);
      await e2e.http.get(`/orders/${order.id}`).query({ at }).expect(400);
      await e2e.http.get('/analytics/summary').query({ from: at }).expect(400);
      await e2e.http.get('/analytics/products/top').query({ at }).expect(400);
    }
    await e2e.http.get(`/users/${user.id}`).query({ at: new Date().toISOString() }).expect(200);
  });

  it('stores and returns injection strings verbatim', async () => {
    const name = "Robert'); DROP TABLE users;--";
    const created = (await e2e.http.post('/users').send({ name }).expect(201)).body;
    expect(created.name).toBe(name);
    expect((await e2e.http.get(`/users/${created.id}`).expect(200)).body.name).toBe(name);
    const product = "sofa' OR '1'='1";
    const order = (await e2e.http.post('/orders').send({ userId: created.id, product, amount: 1 }).expect(201)).body;
    expect((await e2e.http.get(`/orders/${order.id}`).expect(200)).body.product).toBe(product);
    const [{ exists }] = await e2e.db.query(`SELECT to_regclass('public.users') IS NOT NULL AS exists`);
    expect(exists).toBe(true);
  });
});
