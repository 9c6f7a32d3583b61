import { Webhook } from 'standardwebhooks';
import { Topics } from '../src/events';
import { WebhookMaintenance } from '../src/webhooks/maintenance/webhook-maintenance.service';
import { E2eApp, startE2eApp } from './support/e2e-app';
import { CATCH_UP_MS, caughtUp } from './support/webhook-fan-out';
import { anOrder, aUser, anOutsideId, unique } from './support/factories';
import { KafkaProbe, OutsideProducer } from './support/kafka';
import { waitFor } from './support/wait-for';
import { ReceivedWebhook, WebhookReceiver } from './support/webhook-receiver';

const TOKEN = process.env.ADMIN_TOKEN!;

describe('Outbound webhooks: subscriptions, signed delivery, retries and the delivery log', () => {
  let e2e: E2eApp;
  let probe: KafkaProbe;
  let receivers: WebhookReceiver[] = [];
  let subscriptionIds: number[] = [];

  beforeAll(async () => {
    probe = await KafkaProbe.start([Topics.WebhookDisabled]);
    e2e = await startE2eApp();
    await caughtUp(e2e);
  }, CATCH_UP_MS + 20_000);
  afterEach(async () => {
    // Each test's subscriptions and receivers go, so later events never reach them.
    for (const id of subscriptionIds) await admin('delete', `/webhooks/${id}`);
    await Promise.all(receivers.map((r) => r.stop()));
    receivers = [];
    subscriptionIds = [];
  });
  afterAll(async () => {
    await e2e?.close();
    await probe?.stop();
  });

  const admin = (method: 'get' | 'post' | 'patch' | 'delete', path: string) => e2e.http[method](path).set('authorization', `Bearer ${TOKEN}`);

  async function receiver(): Promise<WebhookReceiver> {
    const r = await WebhookReceiver.start();
    receivers.push(r);
    return r;
  }

  async function subscribe(url: string, events: string[], extra: Record<string, unknown> = {}) {
    const res = await admin('post', '/webhooks').send({ url, events, ...extra }).expect(201);
    subscriptionIds.push(res.body.id);
    return res.body as { id: number; secret: string; url: string; events: string[] };
  }

  const createUser = async (name = unique('user')) => (await e2e.http.post('/users').send(aUser({ name })).expect(201)).body as { id: number; name: string };
  /** Other processes' events reach the test's subscriptions too: a receiver misbehaves only for this name. */
  const isAbout = (name: string) => (req: ReceivedWebhook) => req.json.data?.name === name;
  const verify = (secret: string, r: ReceivedWebhook) => new Webhook(secret).verify(r.raw, r.signed);

  async function deliveryOf(subscriptionId: number, messageId: string) {
    const list = (await admin('get', `/webhooks/${subscriptionId}/deliveries?limit=100`).expect(200)).body;
    const summary = list.items.find((d: { messageId: string }) => d.messageId === messageId);
    return (await admin('get', `/webhooks/${subscriptionId}/deliveries/${summary.id}`).expect(200)).body;
  }

  /** Waits until the fan-out consumer has handled the event that created this entity. */
  async function fannedOut(entityType: string, entityId: number, type: string) {
    await waitFor(`fan-out of ${type} ${entityId}`, async () => {
      const rows = await e2e.db.query(
        `SELECT 1 FROM event_log l JOIN inbox i ON i.message_id = l.event_id AND i.consumer = 'webhooks.fanout'
          WHERE l.entity_type = $1 AND l.entity_id = $2 AND l.type = $3`,
        [entityType, String(entityId), type],
      );
      return rows.length > 0;
    });
  }

  describe('management API', () => {
    const routes: ['get' | 'post' | 'patch' | 'delete', string][] = [
      ['post', '/webhooks'],
      ['get', '/webhooks'],
      ['get', '/webhooks/1'],
      ['patch', '/webhooks/1'],
      ['delete', '/webhooks/1'],
      ['post', '/webhooks/1/rotate-secret'],
      ['post', '/webhooks/1/test'],
      ['get', '/webhooks/1/deliveries'],
      ['get', '/webhooks/1/deliveries/1'],
      ['post', '/webhooks/1/deliveries/1/retry'],
      ['post', '/webhooks/1/recover'],
      ['get', '/event-types'],
    ];

    it.each(routes)('answers %s %s with 401 without a token and 403 with a wrong one', async (method, path) => {
      await e2e.http[method](path).expect(401);
      await e2e.http[method](path).set('authorization', 'Bearer wrong-token-0123456789').expect(403);
    });

    it('creates a subscription with a generated whsec_ secret that reads never show', async () => {
      const r = await receiver();
      const created = await subscribe(r.url, ['order_placed', 'user_created', 'user_created'], { description: 'shop front' });
      expect(created).toMatchObject({ url: r.url, events: ['order_placed', 'user_created'], description: 'shop front', enabled: true });
      expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);

      const one = await admin('get', `/webhooks/${created.id}`).expect(200);
      const list = await admin('get', '/webhooks?limit=100').expect(200);
      expect(one.body).not.toHaveProperty('secret');
      expect(JSON.stringify(one.body)).not.toContain(created.secret.slice(6));
      expect(JSON.stringify(list.body)).not.toContain(created.secret.slice(6));
      expect(list.body.items.map((s: { id: number }) => s.id)).toContain(created.id);
    });

    it('keeps a secret given at creation, and stores "*" alone', async () => {
      const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
      const created = await subscribe((await receiver()).url, ['user_created', '*'], { secret });
      expect(created).toMatchObject({ secret, events: ['*'] });
    });

    it('refuses bad input with 400 naming each field, and never echoes a bad secret', async () => {
      const url = (await receiver()).url;
      const cases: [Record<string, unknown>, string][] = [
        [{ url, events: ['order_placed'], role: 'admin' }, 'role'],
        [{ url, events: [] }, 'events'],
        [{ url, events: ['order_shipped'] }, 'events'],
        [{ url: 'ftp://example.com/hook', events: ['*'] }, 'url'],
        [{ url: 'https://user:pw@example.com/hook', events: ['*'] }, 'url'],
        [{ events: ['*'] }, 'url'],
        [{ url, events: ['*'], secret: 'whsec_c2hvcnQ=' }, 'secret'],
      ];
      for (const [body, field] of cases) {
        const res = await admin('post', '/webhooks').send(body).expect(400);
        expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      }
      const bad = await admin('post', '/webhooks').send({ url, events: ['*'], secret: 'whsec_c2hvcnQ=' }).expect(400);
      expect(JSON.stringify(bad.body)).not.toContain('c2hvcnQ');
    });

    it('changes url, events, description and enabled with PATCH, and deletes', async () => {
      const [a, b] = [await receiver(), await receiver()];
      const created = await subscribe(a.url, ['order_placed']);
      const patched = await admin('patch', `/webhooks/${created.id}`)
        .send({ url: b.url, events: ['order_cancelled'], description: 'moved', enabled: false })
        .expect(200);
      expect(patched.body).toMatchObject({ url: b.url, events: ['order_cancelled'], description: 'moved', enabled: false, disabledReason: 'disabled by an administrator', version: 2 });
      const enabled = await admin('patch', `/webhooks/${created.id}`).send({ enabled: true, description: null }).expect(200);
      expect(enabled.body).toMatchObject({ enabled: true, disabledReason: null, disabledAt: null, description: null });
      await admin('patch', `/webhooks/${created.id}`).send({ enabled: 'yes' }).expect(400);

      await admin('delete', `/webhooks/${created.id}`).expect(204);
      await admin('get', `/webhooks/${created.id}`).expect(404);
      await admin('delete', `/webhooks/${created.id}`).expect(404);
    });

    it('lists every event type with its description, an example and its schema', async () => {
      const res = await admin('get', '/event-types').expect(200);
      const byType = new Map(res.body.items.map((t: { type: string }) => [t.type, t]));
      for (const type of ['user_created', 'order_placed', 'order_cancelled', 'webhook.disabled', 'webhook.test']) {
        expect(byType.get(type)).toMatchObject({ type, description: expect.any(String), example: expect.any(Object) });
      }
      expect(byType.get('order_placed')).toMatchObject({ example: { product: 'sofa' }, schema: { required: ['id', 'product', 'amount'] } });
    });
  });

  describe('delivery', () => {
    it('sends a Standard Webhooks request that standardwebhooks verifies, continuing the trace of the HTTP request', async () => {
      const r = await receiver();
      const sub = await subscribe(r.url, ['order_placed']);
      const user = await createUser();
      const traceId = 'aa'.repeat(16);
      const order = (await e2e.http.post('/orders').set('traceparent', `00-${traceId}-${'bb'.repeat(8)}-01`).send(anOrder(user.id)).expect(201)).body;

      const request = await r.next('the order_placed webhook', (x) => x.json.type === 'order_placed' && x.json.data.id === order.id);
      const { customer, ...state } = order;
      expect(verify(sub.secret, request)).toEqual({ type: 'order_placed', timestamp: expect.any(String), data: state });
      expect(request.id).toMatch(/^msg_[0-9a-f]{32}$/);
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['user-agent']).toMatch(/^Nestream-Webhooks\/\d+\.\d+\.\d+$/);
      expect(request.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      expect(Math.abs(Number(request.signed['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
    });

    it('sends each subscription only the event types it asked for', async () => {
      const [usersOnly, everything] = [await receiver(), await receiver()];
      await subscribe(usersOnly.url, ['user_created']);
      await subscribe(everything.url, ['*']);
      const user = await createUser();
      const order = (await e2e.http.post('/orders').send(anOrder(user.id)).expect(201)).body;

      await everything.next('user_created at "*"', (x) => x.json.type === 'user_created' && x.json.data.id === user.id);
      await everything.next('order_placed at "*"', (x) => x.json.type === 'order_placed' && x.json.data.id === order.id);
      await usersOnly.next('user_created at user_created', (x) => x.json.type === 'user_created' && x.json.data.id === user.id);
      await fannedOut('order', order.id, 'order_placed');
      // The order's fan-out has committed: a delivery for usersOnly would exist by now.
      await waitFor('both deliveries of the "*" subscription to settle', () => everything.about('order_placed', order.id).length === 1);
      expect(usersOnly.requests.filter((x) => x.json.type === 'order_placed')).toEqual([]);
    });

    it('creates one delivery per subscription when Kafka delivers the same event twice', async () => {
      const r = await receiver();
      const sub = await subscribe(r.url, ['user_created']);
      const id = anOutsideId();
      const outside = await OutsideProducer.connect();
      try {
        const copy = JSON.stringify({ id, name: 'Twice' });
        const headers = { ce_id: `dup-${id}`, ce_type: 'user_created', ce_source: '/elsewhere' };
        await outside.send(Topics.UserCreated, copy, String(id), headers);
        await outside.send(Topics.UserCreated, copy, String(id), headers);
        // Same key, same partition, consumed in order: once this one is delivered, both copies were consumed.
        await outside.send(Topics.UserCreated, JSON.stringify({ id, name: 'Marker' }), String(id), { ce_id: `marker-${id}` });
        await r.next('the marker event', (x) => x.json.data.id === id && x.json.data.name === 'Marker');
      } finally {
        await outside.close();
      }
      expect(r.about('user_created', id).filter((x) => x.json.data.name === 'Twice')).toHaveLength(1);
      const [{ n }] = await e2e.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE subscription_id = $1 AND event_id = $2`, [sub.id, `dup-${id}`]);
      expect(n).toBe(1);
    });

    it('retries a receiver that answers 500 twice: three attempts, one success, all in the log with the same webhook-id', async () => {
      const r = await receiver();
      const name = unique('flaky');
      r.respond = (req, attempt) => (isAbout(name)(req) && attempt <= 2 ? { status: 500, body: `boom ${attempt}` } : { status: 200, body: 'ok' });
      const sub = await subscribe(r.url, ['user_created']);
      const user = await createUser(name);

      const requests = await r.count('three attempts', (x) => x.json.data.id === user.id, 3);
      expect(new Set(requests.map((x) => x.id)).size).toBe(1);
      for (const x of requests) expect(verify(sub.secret, x)).toMatchObject({ data: { id: user.id } });

      const delivery = await waitFor('the delivery to succeed', async () => {
        const d = await deliveryOf(sub.id, requests[0].id);
        return d.status === 'succeeded' ? d : undefined;
      });
      expect(delivery).toMatchObject({ eventType: 'user_created', status: 'succeeded', attemptCount: 3, nextAttemptAt: null, lastStatusCode: 200 });
      expect(delivery.payload).toMatchObject({ type: 'user_created', data: { id: user.id } });
      expect(delivery.attempts.map((a: { statusCode: number; responseBody: string }) => [a.statusCode, a.responseBody])).toEqual([
        [500, 'boom 1'],
        [500, 'boom 2'],
        [200, 'ok'],
      ]);
      expect(delivery.attempts.every((a: { durationMs: number }) => a.durationMs >= 0)).toBe(true);
      const succeeded = (await admin('get', `/webhooks/${sub.id}/deliveries?status=succeeded`).expect(200)).body.items;
      expect(succeeded.map((d: { messageId: string }) => d.messageId)).toContain(requests[0].id);
      await admin('get', `/webhooks/${sub.id}/deliveries?status=lost`).expect(400);
    });

    it('disables a subscription whose endpoint answers 410 and publishes webhook.disabled', async () => {
      const r = await receiver();
      const name = unique('gone');
      r.respond = (req) => ({ status: isAbout(name)(req) ? 410 : 200 });
      // A hook URL whose query is its credential, as Slack's and Zapier's are.
      const sub = await subscribe(`${r.url}?token=hook-credential`, ['user_created']);
      const user = await createUser(name);
      await r.next('the one attempt', (x) => x.json.data.id === user.id);

      const disabled = await waitFor('the subscription to be disabled', async () => {
        const body = (await admin('get', `/webhooks/${sub.id}`).expect(200)).body;
        return body.enabled ? undefined : body;
      });
      expect(disabled.disabledReason).toBe('the endpoint answered 410 Gone');
      const event = await probe.next('webhook.disabled', (rec) => rec.key === String(sub.id));
      // The event reaches readers the subscription is hidden from: it names the endpoint by its origin.
      expect(JSON.parse(event.value!)).toMatchObject({ id: sub.id, url: new URL(r.url).origin, reason: 'the endpoint answered 410 Gone' });
      expect(event.value).not.toContain(sub.secret);
      expect(event.value).not.toContain('hook-credential');

      // A disabled subscription gets no new deliveries.
      const later = await createUser();
      await fannedOut('user', later.id, 'user_created');
      const [{ n }] = await e2e.db.query(
        `SELECT count(*)::int AS n FROM webhook_deliveries WHERE subscription_id = $1 AND entity_type = 'user' AND entity_id = $2`,
        [sub.id, String(later.id)],
      );
      expect(n).toBe(0);
      expect(r.about('user_created', later.id)).toEqual([]);
    });

    it('disables a subscription without a single success for the configured period, and says so once', async () => {
      const r = await receiver();
      // Every request fails: a single success, even another process's event, would restart the period.
      r.respond = () => ({ status: 500 });
      const sub = await subscribe(r.url, ['user_created']);
      const user = await createUser();
      await r.next('a first failed attempt', (x) => x.json.data.id === user.id);
      await waitFor('the failure to be recorded', async () => {
        const [row] = await e2e.db.query(`SELECT failing_since FROM webhook_subscriptions WHERE id = $1`, [sub.id]);
        return row.failing_since !== null;
      });
      // The period (120 hours by default) has passed since the first failure.
      await e2e.db.query(`UPDATE webhook_subscriptions SET failing_since = now() - interval '121 hours' WHERE id = $1`, [sub.id]);

      const disabled = await waitFor('the next failure to disable it', async () => {
        const body = (await admin('get', `/webhooks/${sub.id}`).expect(200)).body;
        return body.enabled ? undefined : body;
      });
      expect(disabled.disabledReason).toBe('no successful delivery for 120 hours');
      await probe.next('webhook.disabled', (rec) => rec.key === String(sub.id));
      const [{ n }] = await e2e.db.query(
        `SELECT count(*)::int AS n FROM event_log WHERE type = 'webhook.disabled' AND entity_id = $1`,
        [String(sub.id)],
      );
      expect(n).toBe(1);
    });

    it('disables a long-failing subscription in the maintenance sweep even when no attempt is due', async () => {
      const sub = await subscribe((await receiver()).url, ['user_deleted']);
      await e2e.db.query(`UPDATE webhook_subscriptions SET failing_since = now() - interval '200 hours' WHERE id = $1`, [sub.id]);
      const result = await e2e.app.get(WebhookMaintenance).sweep();
      expect(result.subscriptionsDisabled).toBeGreaterThanOrEqual(1);
      expect((await admin('get', `/webhooks/${sub.id}`).expect(200)).body).toMatchObject({ enabled: false, disabledReason: 'no successful delivery for 120 hours' });
      await probe.next('webhook.disabled from the sweep', (rec) => rec.key === String(sub.id));
    });

    it('waits as long as a 429 Retry-After asks before the next attempt', async () => {
      const r = await receiver();
      const name = unique('limited');
      r.respond = (req, attempt) => (isAbout(name)(req) && attempt === 1 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 });
      await subscribe(r.url, ['user_created']);
      const user = await createUser(name);
      const [first, second] = await r.count('two attempts', (x) => x.json.data.id === user.id, 2);
      // The schedule alone would retry after 300 ms (± 20 %).
      expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(1900);
    });

    it('treats a redirect as a failure and never follows it', async () => {
      const [r, elsewhere] = [await receiver(), await receiver()];
      const name = unique('moved');
      r.respond = (req, attempt) => (isAbout(name)(req) && attempt === 1 ? { status: 302, headers: { location: elsewhere.url } } : { status: 200 });
      const sub = await subscribe(r.url, ['user_created']);
      const user = await createUser(name);
      const [first] = await r.count('the retry after the redirect', (x) => x.json.data.id === user.id, 2);
      expect(elsewhere.requests).toEqual([]);
      const delivery = await waitFor('success', async () => {
        const d = await deliveryOf(sub.id, first.id);
        return d.status === 'succeeded' ? d : undefined;
      });
      expect(delivery.attempts[0]).toMatchObject({ statusCode: 302, error: 'redirect not followed' });
    });

    it('keeps the first 4 KiB of a response body and gives up on a receiver slower than the timeout', async () => {
      const r = await receiver();
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const name = unique('slow');
      r.respond = async (req, attempt) => {
        if (!isAbout(name)(req)) return { status: 200 };
        if (attempt === 1) {
          await held;
          return { status: 200 };
        }
        return attempt === 2 ? { status: 500, body: 'x'.repeat(100 * 1024) } : { status: 204 };
      };
      const sub = await subscribe(r.url, ['user_created']);
      const user = await createUser(name);
      try {
        const [first] = await r.count('three attempts', (x) => x.json.data.id === user.id, 3);
        const delivery = await waitFor('success', async () => {
          const d = await deliveryOf(sub.id, first.id);
          return d.status === 'succeeded' ? d : undefined;
        });
        expect(delivery.attempts[0]).toMatchObject({ statusCode: null, error: 'timed out after 2000 ms' });
        expect(delivery.attempts[0].durationMs).toBeGreaterThanOrEqual(1900);
        expect(delivery.attempts[1].statusCode).toBe(500);
        expect(delivery.attempts[1].responseBody).toBe('x'.repeat(4096));
        expect(delivery.attempts[2].statusCode).toBe(204);
      } finally {
        release();
      }
    });

    it("delivers one entity's events in order while its retries hold back nothing else", async () => {
      const r = await receiver();
      await subscribe(r.url, ['order_placed', 'order_updated']);
      const user = await createUser();
      const a = (await e2e.http.post('/orders').send(anOrder(user.id)).expect(201)).body;
      let b: { id: number } | undefined;
      r.respond = async (req) => {
        if (req.json.type !== 'order_placed' || req.json.data.id !== a.id) return { status: 200 };
        // Order A's first event keeps failing until order B went out and A's next event is queued behind it.
        const bArrived = b !== undefined && r.about('order_placed', b.id).length > 0;
        const [{ n }] = await e2e.db.query(
          `SELECT count(*)::int AS n FROM webhook_deliveries
            WHERE entity_type = 'order' AND entity_id = $1 AND event_type = 'order_updated' AND status = 'pending'`,
          [String(a.id)],
        );
        return bArrived && n > 0 ? { status: 200 } : { status: 503 };
      };
      await e2e.http.patch(`/orders/${a.id}`).send({ status: 'paid' }).expect(200);
      b = (await e2e.http.post('/orders').send(anOrder(user.id)).expect(201)).body;

      await r.next("A's order_updated", (x) => x.json.type === 'order_updated' && x.json.data.id === a.id);
      const placedA = r.about('order_placed', a.id);
      const updatedA = r.about('order_updated', a.id);
      expect(placedA.length).toBeGreaterThanOrEqual(2);
      expect(r.requests.indexOf(updatedA[0])).toBeGreaterThan(r.requests.indexOf(placedA[placedA.length - 1]));
      expect(r.requests.indexOf(r.about('order_placed', b!.id)[0])).toBeLessThan(r.requests.indexOf(placedA[placedA.length - 1]));
    });
  });

  describe('secrets and tests', () => {
    it('signs with both secrets during the rotation grace period, then with the new one only', async () => {
      const r = await receiver();
      const sub = await subscribe(r.url, ['user_created']);
      const rotated = (await admin('post', `/webhooks/${sub.id}/rotate-secret`).expect(200)).body;
      expect(rotated.secret).toMatch(/^whsec_/);
      expect(rotated.secret).not.toBe(sub.secret);
      expect(Date.parse(rotated.previousSecretExpiresAt)).toBeGreaterThan(Date.now() + 23 * 3_600_000);
      expect((await admin('get', `/webhooks/${sub.id}`).expect(200)).body).not.toHaveProperty('secret');

      const { deliveryId } = (await admin('post', `/webhooks/${sub.id}/test`).expect(202)).body;
      const during = await r.next('the test event during the grace period', (x) => x.json.type === 'webhook.test');
      expect(during.signed['webhook-signature'].split(' ')).toHaveLength(2);
      expect(() => verify(rotated.secret, during)).not.toThrow();
      expect(() => verify(sub.secret, during)).not.toThrow();
      expect(deliveryId).toEqual(expect.any(Number));

      await e2e.db.query(`UPDATE webhook_subscriptions SET previous_secret_expires_at = now() - interval '1 second' WHERE id = $1`, [sub.id]);
      await admin('post', `/webhooks/${sub.id}/test`).expect(202);
      const after = await r.next('the test event after the grace period', (x) => x.json.type === 'webhook.test' && x !== during);
      expect(after.signed['webhook-signature'].split(' ')).toHaveLength(1);
      expect(() => verify(rotated.secret, after)).not.toThrow();
      expect(() => verify(sub.secret, after)).toThrow();
    });

    it('sends webhook.test to that subscription only, and refuses to test a disabled one', async () => {
      const [r, other] = [await receiver(), await receiver()];
      const sub = await subscribe(r.url, ['order_cancelled']);
      await subscribe(other.url, ['*']);
      const { deliveryId } = (await admin('post', `/webhooks/${sub.id}/test`).expect(202)).body;
      const request = await r.next('webhook.test', (x) => x.json.type === 'webhook.test');
      expect(verify(sub.secret, request)).toMatchObject({ type: 'webhook.test', data: { subscriptionId: sub.id } });
      await waitFor('the test delivery to succeed', async () => {
        const d = (await admin('get', `/webhooks/${sub.id}/deliveries/${deliveryId}`).expect(200)).body;
        return d.status === 'succeeded';
      });
      expect(other.requests.filter((x) => x.json.type === 'webhook.test')).toEqual([]);

      await admin('patch', `/webhooks/${sub.id}`).send({ enabled: false }).expect(200);
      await admin('post', `/webhooks/${sub.id}/test`).expect(409);
      await admin('post', '/webhooks/987654321/test').expect(404);
    });
  });
});
