import { Webhook } from 'standardwebhooks';
import { E2eApp, startE2eApp } from './support/e2e-app';
import { CATCH_UP_MS, caughtUp } from './support/webhook-fan-out';
import { aUser, unique } from './support/factories';
import { waitFor } from './support/wait-for';
import { freePort, WebhookReceiver } from './support/webhook-receiver';

const TOKEN = process.env.ADMIN_TOKEN!;

describe('Webhook delivery across outages, restarts, crashes and several instances', () => {
  let e2e: E2eApp;
  const receivers: WebhookReceiver[] = [];
  const subscriptionIds: number[] = [];

  beforeAll(async () => {
    e2e = await startE2eApp();
    await caughtUp(e2e);
  }, CATCH_UP_MS + 20_000);
  afterEach(async () => {
    // Later events must not reach a receiver that is gone.
    for (const id of subscriptionIds.splice(0)) await admin(e2e, 'delete', `/webhooks/${id}`);
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.stop()));
    await e2e?.close();
  });

  const admin = (app: E2eApp, method: 'get' | 'post' | 'delete', path: string) => app.http[method](path).set('authorization', `Bearer ${TOKEN}`);

  async function subscribe(url: string, events: string[]) {
    const created = (await admin(e2e, 'post', '/webhooks').send({ url, events }).expect(201)).body as { id: number; secret: string };
    subscriptionIds.push(created.id);
    return created;
  }

  /** The subscription's delivery of the event about this user (other users' events may reach it too). */
  const deliveryRow = async (subscriptionId: number, userId: number) =>
    (
      await e2e.db.query(
        `SELECT id, status, attempts, message_id, next_attempt_at FROM webhook_deliveries
          WHERE subscription_id = $1 AND entity_type = 'user' AND entity_id = $2 AND event_type = 'user_created'`,
        [subscriptionId, String(userId)],
      )
    )[0];

  async function detail(app: E2eApp, subscriptionId: number, deliveryId: number) {
    return (await admin(app, 'get', `/webhooks/${subscriptionId}/deliveries/${deliveryId}`).expect(200)).body;
  }

  it('keeps retrying a receiver that is down and delivers once it is back', async () => {
    const port = await freePort();
    const sub = await subscribe(`http://127.0.0.1:${port}/hooks`, ['user_created']);
    const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;

    const failing = await waitFor('two refused attempts', async () => {
      const row = await deliveryRow(sub.id, user.id);
      return row && row.attempts >= 2 && row.status === 'pending' ? row : undefined;
    });
    const receiver = await WebhookReceiver.start(port);
    receivers.push(receiver);

    const request = await receiver.next('the delivery after the comeback', (x) => x.json.data.id === user.id);
    expect(new Webhook(sub.secret).verify(request.raw, request.signed)).toMatchObject({ data: { id: user.id } });
    expect(request.id).toBe(failing.message_id);
    const delivered = await waitFor('success in the log', async () => {
      const d = await detail(e2e, sub.id, Number(failing.id));
      return d.status === 'succeeded' ? d : undefined;
    });
    expect(delivered.attempts[0]).toMatchObject({ statusCode: null, error: expect.stringMatching(/ECONNREFUSED/) });
    expect(delivered.attempts[delivered.attempts.length - 1].statusCode).toBe(200);
  });

  it('picks the retry schedule up after a restart: nothing lost, nothing sent twice', async () => {
    const receiver = await WebhookReceiver.start();
    receivers.push(receiver);
    receiver.respond = (_req, attempt) => (attempt === 1 ? { status: 503, headers: { 'retry-after': '3' } } : { status: 200 });
    const sub = await subscribe(receiver.url, ['user_created']);
    const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;

    const first = await receiver.next('the first attempt', (x) => x.json.data.id === user.id);
    const waiting = await waitFor('the retry to be scheduled', async () => {
      const row = await deliveryRow(sub.id, user.id);
      return row?.attempts === 1 && row.next_attempt_at ? row : undefined;
    });
    // A clean stop while the delivery waits for its retry; the schedule lives in Postgres.
    await e2e.close();
    e2e = await startE2eApp();
    const [, second] = await receiver.count('the retry after the restart', (x) => x.json.data.id === user.id, 2);
    expect(second.id).toBe(first.id);
    expect(second.receivedAt).toBeGreaterThanOrEqual(new Date(waiting.next_attempt_at).getTime() - 50);
    const delivered = await waitFor('success', async () => {
      const d = await detail(e2e, sub.id, Number(waiting.id));
      return d.status === 'succeeded' ? d : undefined;
    });
    expect(delivered.attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([503, 200]);
    expect(receiver.about('user_created', user.id)).toHaveLength(2);
  });

  it('retries, with the same webhook-id, a delivery whose instance crashed mid-attempt once its lease expires', async () => {
    const receiver = await WebhookReceiver.start();
    receivers.push(receiver);
    receiver.respond = (_req, attempt) => (attempt === 1 ? { status: 429, headers: { 'retry-after': '600' } } : { status: 200 });
    const sub = await subscribe(receiver.url, ['user_created']);
    const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
    const first = await receiver.next('the first attempt', (x) => x.json.data.id === user.id);
    const row = await waitFor('the first attempt recorded', async () => {
      const r = await deliveryRow(sub.id, user.id);
      return r?.attempts === 1 ? r : undefined;
    });

    // What an instance that claimed the delivery and died before recording a result leaves behind.
    await e2e.db.query(
      `UPDATE webhook_deliveries SET attempts = attempts + 1, lease_token = gen_random_uuid(), leased_at = now(),
              lease_until = now() + interval '1 second', next_attempt_at = now()
        WHERE id = $1`,
      [row.id],
    );

    const [, retried] = await receiver.count('the retry after the lease expired', (x) => x.json.data.id === user.id, 2);
    expect(retried.id).toBe(first.id);
    const delivered = await waitFor('success', async () => {
      const d = await detail(e2e, sub.id, Number(row.id));
      return d.status === 'succeeded' ? d : undefined;
    });
    expect(delivered.attempts).toEqual([
      expect.objectContaining({ attempt: 1, statusCode: 429 }),
      expect.objectContaining({ attempt: 2, statusCode: null, error: expect.stringMatching(/^interrupted/) }),
      expect.objectContaining({ attempt: 3, statusCode: 200 }),
    ]);
  });

  describe('with a second instance on the same database and consumer group', () => {
    let second: E2eApp;

    beforeAll(async () => {
      second = await startE2eApp();
      // The group rebalanced to take the second instance in: wait until consumption is current again.
      await caughtUp(second);
    }, CATCH_UP_MS + 20_000);
    afterAll(async () => {
      await second?.close();
    });

    it('fans out and sends every event exactly once', async () => {
      const receiver = await WebhookReceiver.start();
      receivers.push(receiver);
      const prefix = unique('pair');
      const sub = await subscribe(receiver.url, ['user_created', 'user_updated']);
      const apps = [e2e, second];
      const users = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => (await apps[i % 2].http.post('/users').send(aUser({ name: `${prefix}-${i}` })).expect(201)).body),
      );
      await Promise.all(users.map((u, i) => apps[(i + 1) % 2].http.patch(`/users/${u.id}`).send({ name: `${prefix}-renamed-${i}` }).expect(200)));

      // Only this test's users: other processes' user events may reach the subscription too.
      await waitFor('their 40 deliveries to succeed', async () => {
        const [{ n }] = await e2e.db.query(
          `SELECT count(*)::int AS n FROM webhook_deliveries
            WHERE subscription_id = $1 AND entity_type = 'user' AND entity_id = ANY($2) AND status = 'succeeded'`,
          [sub.id, users.map((u) => String(u.id))],
        );
        return n === 40;
      });
      // Every delivery has succeeded, so no further attempt can happen: the receiver's count is final.
      const ours = receiver.requests.filter((x) => String(x.json.data.name).startsWith(prefix));
      expect(ours).toHaveLength(40);
      expect(new Set(ours.map((x) => x.id)).size).toBe(40);
      for (const user of users) {
        const types = ours.filter((x) => x.json.data.id === user.id).map((x) => x.json.type);
        // Created before updated: the entity's line keeps event order even across instances.
        expect(types).toEqual(['user_created', 'user_updated']);
      }
    });
  });
});
