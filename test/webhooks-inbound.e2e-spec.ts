import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { Topics } from '../src/events';
import { generateSecret } from '../src/webhooks/security/signing';
import { E2eApp, startE2eApp } from './support/e2e-app';
import { CATCH_UP_MS, caughtUp } from './support/webhook-fan-out';
import { anOutsideId, unique } from './support/factories';
import { KafkaProbe } from './support/kafka';
import { waitFor } from './support/wait-for';

const SECRET = generateSecret();

/** Standard Webhooks headers for `body`, signed now (or at `at`) with SECRET (or `secret`). */
function signed(body: string, { id = `msg_${randomUUID()}`, at = new Date(), secret = SECRET } = {}) {
  const seconds = new Date(Math.floor(at.getTime() / 1000) * 1000);
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(seconds.getTime() / 1000),
    'webhook-signature': new Webhook(secret).sign(id, seconds, body),
  };
}

describe('Inbound webhooks: POST /webhook/user_created and /webhook/order_placed', () => {
  let e2e: E2eApp;
  let probe: KafkaProbe;

  beforeAll(async () => {
    process.env.INBOUND_WEBHOOK_SECRET = SECRET;
    probe = await KafkaProbe.start([Topics.UserCreated, Topics.OrderPlaced]);
    e2e = await startE2eApp();
    await caughtUp(e2e);
  }, CATCH_UP_MS + 20_000);
  afterAll(async () => {
    await e2e?.close();
    await probe?.stop();
    delete process.env.INBOUND_WEBHOOK_SECRET;
  });

  const post = (path: string, body: string, headers: Record<string, string>) => e2e.http.post(path).set(headers).send(body);
  const remembered = async (id: string) =>
    (await e2e.db.query(`SELECT count(*)::int AS n FROM inbound_webhook_messages WHERE message_id = $1`, [id]))[0].n as number;
  const visible = (path: string) =>
    waitFor(`GET ${path}`, async () => {
      const res = await e2e.http.get(path);
      return res.status === 200 ? res.body : undefined;
    });

  describe('with INBOUND_WEBHOOK_SECRET set', () => {
    it("accepts a signed user_created, publishes the payload as an outside event, and the user is stored", async () => {
      const id = anOutsideId();
      const name = unique('King');
      // Odd spacing: the signature covers these exact bytes, not a re-serialisation.
      const body = `{"id": ${id},   "name": "${name}"}`;
      const res = await post('/webhook/user_created', body, signed(body)).expect(200);
      expect(res.body).toEqual({ accepted: true, duplicate: false });

      const record = await probe.next('the user_created record', (r) => r.topic === Topics.UserCreated && r.key === String(id));
      expect(JSON.parse(record.value!)).toEqual({ id, name });
      expect(record.headers).toMatchObject({ ce_type: 'user_created', ce_source: '/webhooks/inbound', ce_subject: String(id) });
      expect(await visible(`/users/${id}`)).toMatchObject({ id, name });
    });

    it('accepts a signed order_placed, which is stored like an outside order', async () => {
      const id = anOutsideId();
      const body = JSON.stringify({ id, product: 'sofa', amount: 100000 });
      await post('/webhook/order_placed', body, signed(body)).expect(200);
      const record = await probe.next('the order_placed record', (r) => r.topic === Topics.OrderPlaced && r.key === String(id));
      expect(JSON.parse(record.value!)).toEqual({ id, product: 'sofa', amount: 100000 });
      expect(await visible(`/orders/${id}`)).toMatchObject({ id, product: 'sofa', amount: 100000 });
    });

    it.each([
      ['a forged signature', (body: string) => signed(body, { secret: generateSecret() }), /no signature matches/],
      ['a stale timestamp (10 minutes old)', (body: string) => signed(body, { at: new Date(Date.now() - 10 * 60_000) }), /5 minutes/],
      ['a timestamp 10 minutes ahead', (body: string) => signed(body, { at: new Date(Date.now() + 10 * 60_000) }), /5 minutes/],
      ['a body changed after signing', (body: string) => signed(body.replace('King', 'Kong')), /no signature matches/],
      ['no signature headers', () => ({ 'content-type': 'application/json' }), /required/],
    ])('refuses %s with 401 and writes nothing', async (_what, headersFor, message) => {
      const id = anOutsideId();
      const body = JSON.stringify({ id, name: 'King' });
      const headers: Record<string, string> = headersFor(body);
      const res = await post('/webhook/user_created', body, headers).expect(401);
      expect(res.body.message).toMatch(message);
      if (headers['webhook-id']) expect(await remembered(headers['webhook-id'])).toBe(0);
      const [{ n }] = await e2e.db.query(`SELECT count(*)::int AS n FROM outbox WHERE key = $1`, [String(id)]);
      expect(n).toBe(0);
    });

    it('acknowledges a replayed webhook-id again without publishing a second event', async () => {
      const id = anOutsideId();
      const body = JSON.stringify({ id, name: 'Once' });
      const headers = signed(body);
      expect((await post('/webhook/user_created', body, headers).expect(200)).body).toEqual({ accepted: true, duplicate: false });
      expect((await post('/webhook/user_created', body, headers).expect(200)).body).toEqual({ accepted: true, duplicate: true });

      // Same key, same partition, published in outbox order: a second copy would come before this marker.
      const marker = JSON.stringify({ id, name: 'Marker' });
      await post('/webhook/user_created', marker, signed(marker)).expect(200);
      await probe.next('the marker', (r) => r.key === String(id) && r.value!.includes('Marker'));
      expect(probe.records.filter((r) => r.key === String(id) && r.value!.includes('Once'))).toHaveLength(1);
      expect(await remembered(headers['webhook-id'])).toBe(1);
    });

    it('refuses a signed but invalid payload with 400 naming each field', async () => {
      const body = JSON.stringify({ id: 'eleven', name: '', role: 'admin' });
      const res = await post('/webhook/user_created', body, signed(body)).expect(400);
      expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['id', 'name', 'role']);

      const order = JSON.stringify({ id: 11, product: 'sofa', amount: 19.999 });
      const bad = await post('/webhook/order_placed', order, signed(order)).expect(400);
      expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'amount' })]);
    });
  });

  describe('without INBOUND_WEBHOOK_SECRET', () => {
    let open: E2eApp;

    beforeAll(async () => {
      delete process.env.INBOUND_WEBHOOK_SECRET;
      open = await startE2eApp();
    });
    afterAll(async () => {
      await open?.close();
    });

    it('accepts an unsigned payload, still deduplicating a webhook-id when one is sent', async () => {
      const id = anOutsideId();
      const body = JSON.stringify({ id, name: 'Unsigned' });
      expect((await open.http.post('/webhook/user_created').send(JSON.parse(body)).expect(200)).body).toEqual({ accepted: true, duplicate: false });
      await probe.next('the unsigned record', (r) => r.key === String(id));
      const withId = { 'webhook-id': `msg_${randomUUID()}` };
      await open.http.post('/webhook/user_created').set(withId).send({ id: anOutsideId(), name: 'A' }).expect(200);
      expect((await open.http.post('/webhook/user_created').set(withId).send({ id: anOutsideId(), name: 'A' }).expect(200)).body.duplicate).toBe(true);
    });
  });
});
