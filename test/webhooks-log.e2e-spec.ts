import { WebhookMaintenance } from '../src/webhooks/maintenance/webhook-maintenance.service';
import { E2eApp, startE2eApp } from './support/e2e-app';
import { CATCH_UP_MS, caughtUp } from './support/webhook-fan-out';
import { aUser } from './support/factories';
import { waitFor } from './support/wait-for';
import { WebhookReceiver } from './support/webhook-receiver';

const TOKEN = process.env.ADMIN_TOKEN!;

describe('Webhook delivery log: manual retry, recovery of failures, payload retention', () => {
  let e2e: E2eApp;
  let receiver: WebhookReceiver;
  let sub: { id: number };
  const schedule = process.env.WEBHOOK_RETRY_SCHEDULE;

  beforeAll(async () => {
    // Two attempts only, so a failing delivery is "failed" within a moment.
    process.env.WEBHOOK_RETRY_SCHEDULE = '0,100ms';
    receiver = await WebhookReceiver.start();
    e2e = await startE2eApp();
    await caughtUp(e2e);
  }, CATCH_UP_MS + 20_000);
  beforeEach(async () => {
    receiver.respond = () => ({ status: 500, body: 'down for maintenance' });
    // user_deleted: a quiet topic, so other processes' events seldom queue up in front of ours.
    sub = (await admin('post', '/webhooks').send({ url: receiver.url, events: ['user_deleted'] }).expect(201)).body;
  });
  afterEach(async () => {
    await admin('delete', `/webhooks/${sub.id}`);
  });
  afterAll(async () => {
    await e2e?.close();
    await receiver?.stop();
    process.env.WEBHOOK_RETRY_SCHEDULE = schedule;
  });

  const admin = (method: 'get' | 'post' | 'patch' | 'delete', path: string) => e2e.http[method](path).set('authorization', `Bearer ${TOKEN}`);

  /** Creates and deletes a user, and waits until the user_deleted delivery to `sub` has the given status. */
  async function deliveryFor(status: string): Promise<{ userId: number; deliveryId: number }> {
    const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
    await e2e.http.delete(`/users/${user.id}`).expect(204);
    const [row] = await waitFor(`user ${user.id}'s delivery to be ${status}`, async () => {
      const rows = await e2e.db.query(
        `SELECT id FROM webhook_deliveries
          WHERE subscription_id = $1 AND event_type = 'user_deleted' AND entity_type = 'user' AND entity_id = $2 AND status = $3`,
        [sub.id, String(user.id), status],
      );
      return rows.length > 0 ? rows : undefined;
    });
    return { userId: user.id, deliveryId: Number(row.id) };
  }

  const detail = async (deliveryId: number) => (await admin('get', `/webhooks/${sub.id}/deliveries/${deliveryId}`).expect(200)).body;

  it('marks a delivery failed once the schedule is exhausted, and lists it under ?status=failed', async () => {
    const { deliveryId } = await deliveryFor('failed');
    const failed = (await admin('get', `/webhooks/${sub.id}/deliveries?status=failed`).expect(200)).body.items;
    expect(failed.find((d: { id: number }) => d.id === deliveryId)).toMatchObject({ status: 'failed', attemptCount: 2, nextAttemptAt: null, lastStatusCode: 500 });
    expect((await detail(deliveryId)).attempts.map((a: { responseBody: string }) => a.responseBody)).toEqual(['down for maintenance', 'down for maintenance']);
  });

  it('re-sends a failed delivery on request, with the same webhook-id and a fresh schedule', async () => {
    const { userId, deliveryId } = await deliveryFor('failed');
    receiver.respond = () => ({ status: 200 });
    const queued = (await admin('post', `/webhooks/${sub.id}/deliveries/${deliveryId}/retry`).expect(202)).body;
    expect(queued).toMatchObject({ id: deliveryId, status: 'pending' });

    await waitFor('the retried delivery to succeed', async () => (await detail(deliveryId)).status === 'succeeded');
    const requests = receiver.about('user_deleted', userId);
    expect(requests).toHaveLength(3);
    expect(new Set(requests.map((r) => r.id)).size).toBe(1);
    expect((await detail(deliveryId)).attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([500, 500, 200]);

    await admin('post', `/webhooks/${sub.id}/deliveries/987654321/retry`).expect(404);
    await admin('post', `/webhooks/${sub.id}/deliveries/abc/retry`).expect(400);
  });

  it('recovers every failed delivery since a time and leaves older ones alone', async () => {
    const older = await deliveryFor('failed');
    const [{ since }] = await e2e.db.query(`SELECT now() AS since`);
    const newer = [await deliveryFor('failed'), await deliveryFor('failed')];
    receiver.respond = () => ({ status: 200 });

    const res = await admin('post', `/webhooks/${sub.id}/recover`).send({ since: new Date(since).toISOString() }).expect(202);
    // At least ours: another process's user_deleted may have failed here in the same window.
    expect(res.body.requeued).toBeGreaterThanOrEqual(2);
    expect(res.body.purged).toBe(0);
    for (const d of newer) await waitFor(`delivery ${d.deliveryId} to succeed`, async () => (await detail(d.deliveryId)).status === 'succeeded');
    expect((await detail(older.deliveryId)).status).toBe('failed');
    expect(receiver.about('user_deleted', older.userId)).toHaveLength(2);

    const bad = await admin('post', `/webhooks/${sub.id}/recover`).send({ since: 'yesterday' }).expect(400);
    expect(bad.body.errors).toEqual([{ field: 'since', messages: [expect.stringContaining('ISO 8601')] }]);
    // ISO 8601 forms that JavaScript cannot read as an instant are the client's mistake too, not a 500.
    for (const since of ['2026-W01', '20090519']) await admin('post', `/webhooks/${sub.id}/recover`).send({ since }).expect(400);
  });

  it('refuses to re-send to a disabled subscription until it is enabled again', async () => {
    const { deliveryId } = await deliveryFor('failed');
    await admin('patch', `/webhooks/${sub.id}`).send({ enabled: false }).expect(200);
    await admin('post', `/webhooks/${sub.id}/deliveries/${deliveryId}/retry`).expect(409);
    await admin('post', `/webhooks/${sub.id}/recover`).send({ since: '2020-01-01T00:00:00Z' }).expect(409);
    await admin('patch', `/webhooks/${sub.id}`).send({ enabled: true }).expect(200);
    receiver.respond = () => ({ status: 200 });
    await admin('post', `/webhooks/${sub.id}/deliveries/${deliveryId}/retry`).expect(202);
    await waitFor('the re-sent delivery to succeed', async () => (await detail(deliveryId)).status === 'succeeded');
  });

  it('purges payloads and response bodies after the retention period, keeping the log line', async () => {
    const { deliveryId } = await deliveryFor('failed');
    const fresh = await deliveryFor('failed');
    // 31 days pass for the first delivery only (the retention is 30).
    await e2e.db.query(`UPDATE webhook_deliveries SET created_at = now() - interval '31 days' WHERE id = $1`, [deliveryId]);

    const result = await e2e.app.get(WebhookMaintenance).sweep();
    expect(result.payloadsPurged).toBeGreaterThanOrEqual(1);

    const purged = await detail(deliveryId);
    expect(purged).toMatchObject({ status: 'failed', attemptCount: 2, payload: null, payloadPurgedAt: expect.any(String) });
    expect(purged.attempts.map((a: { statusCode: number; responseBody: string | null }) => [a.statusCode, a.responseBody])).toEqual([
      [500, null],
      [500, null],
    ]);
    expect((await detail(fresh.deliveryId)).payload).toMatchObject({ type: 'user_deleted' });

    const retry = await admin('post', `/webhooks/${sub.id}/deliveries/${deliveryId}/retry`).expect(409);
    expect(retry.body.message).toMatch(/purged/);
    const recovered = await admin('post', `/webhooks/${sub.id}/recover`).send({ since: '2020-01-01T00:00:00Z' }).expect(202);
    expect(recovered.body.purged).toBe(1);
  });
});
