import { Webhook } from 'standardwebhooks';
import { AppProcess } from '../support/app-process';
import { waitFor } from '../support/wait-for';
import { appEnv, lastWords, stopInstances } from './support/apps';
import { HookReceiver } from './support/hook-receiver';
import { SINGLE_BROKER } from './support/infra';
import { endOffsets, readSince, startGroupAtEnd } from './support/kafka-ledger';
import { UserWriteLoad } from './support/load';
import { progress, report } from './support/summary';
import { settleUserWrites, storedEventIds, tallyUserWrites, USER_TOPICS, withDb } from './support/tally';

const GROUP = 'nestream-faults-4';
// Long enough to outlast the outage below (about 30 s of attempts), short enough to catch up quickly after it.
const RETRY_SCHEDULE = '0,500ms,1s,2s,3s,3s,3s,3s,3s,3s,3s,3s';

describe('fault 4: a webhook receiver is down for a while', () => {
  let app: AppProcess | undefined;
  let receiver: HookReceiver | undefined;
  let subscription: { id: number; secret: string } | undefined;
  const asAdmin = { authorization: `Bearer ${process.env.ADMIN_TOKEN}` };

  afterAll(async () => {
    // The later scenarios share this database: their instances must not keep sending to a receiver that is gone.
    if (app && subscription) await fetch(`${app.url}/webhooks/${subscription.id}`, { method: 'DELETE', headers: asAdmin });
    await receiver?.down();
    await stopInstances('4', [app]);
  });

  it('delivers every event once the receiver is back, each webhook-id answered exactly once', async () => {
    const note = progress('4');
    await startGroupAtEnd(SINGLE_BROKER, GROUP);
    const from = await endOffsets(SINGLE_BROKER, USER_TOPICS);
    app = await AppProcess.start(appEnv(GROUP, { WEBHOOK_RETRY_SCHEDULE: RETRY_SCHEDULE }));
    receiver = await HookReceiver.start();
    const created = await fetch(`${app.url}/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...asAdmin },
      body: JSON.stringify({ url: receiver.url, events: USER_TOPICS }),
    });
    expect(created.status).toBe(201);
    subscription = (await created.json()) as { id: number; secret: string };
    const subscriptionId = subscription.id;
    note('app ready, webhook subscribed');

    // Attempts at this load's deliveries that found nobody listening (the subscription also gets other runs' events).
    const refusedAttempts = async () => {
      const eventIds = await storedEventIds(load);
      return withDb(async (db) => {
        const { rows } = await db.query(
          `SELECT count(*)::int AS n FROM webhook_delivery_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
            WHERE d.subscription_id = $1 AND d.event_id = ANY($2) AND a.status_code IS NULL`,
          [subscriptionId, eventIds],
        );
        return rows[0].n as number;
      });
    };
    const load = new UserWriteLoad({ targets: () => [app!.url], ratePerSecond: 40, maxRequests: 3000 }).start();
    await load.acknowledgedMore(100);
    await receiver.down();
    note('receiver down');
    try {
      await load.acknowledgedMore(250);
      // Down for real: this load's deliveries have been refused again and again, not merely queued.
      await waitFor('attempts refused while the receiver is down', () => refusedAttempts().then((n) => n >= 50), { timeoutMs: 60_000, intervalMs: 500 });
    } finally {
      await receiver.up();
      note('receiver back');
    }
    await load.acknowledgedMore(100);
    await load.stop();
    note('load stopped');

    const settledEvents = await settleUserWrites(load);
    const eventIds = await storedEventIds(load);
    const deliveries = () =>
      withDb(async (db) => (await db.query(`SELECT message_id, status, attempts FROM webhook_deliveries WHERE subscription_id = $1 AND event_id = ANY($2)`, [subscriptionId, eventIds])).rows as {
        message_id: string;
        status: string;
        attempts: number;
      }[]);
    let settled = settledEvents;
    await waitFor('every delivery to finish', async () => {
      const rows = await deliveries();
      return rows.length === eventIds.length && rows.every((d) => d.status !== 'pending');
    }, { timeoutMs: 120_000, intervalMs: 500 }).catch(() => (settled = false));
    note('deliveries finished');

    const rows = await deliveries();
    const records = await readSince(SINGLE_BROKER, USER_TOPICS, from);
    const t = await tallyUserWrites(load, records);
    const ours = new Set(rows.map((d) => d.message_id));
    const { delivered, twice } = receiver.delivered(ours);
    const signer = new Webhook(subscription.secret);
    const badSignatures = receiver.hooks.filter((h) => ours.has(h.webhookId)).filter((h) => {
      try {
        signer.verify(h.raw, h.signed);
        return false;
      } catch {
        return true;
      }
    }).length;
    report('4 webhook-receiver-down', {
      accepted: t.accepted,
      stored: t.stored,
      published: t.published,
      consumed: t.consumed,
      webhooks: delivered,
      lost: t.lost + (t.stored - delivered),
      duplicated: twice,
      deliveriesFailed: rows.filter((d) => d.status === 'failed').length,
      attempts: rows.reduce((sum, d) => sum + d.attempts, 0),
      refusedAttempts: await refusedAttempts(),
      requestsSeen: receiver.hooks.filter((h) => ours.has(h.webhookId)).length,
      badSignatures,
      records: t.records,
      outOfOrder: t.outOfOrder,
    });

    expect({ settled, lastWords: settled ? '' : lastWords(app) }).toEqual({ settled: true, lastWords: '' });
    expect(t).toMatchObject({ lost: 0, outOfOrder: 0 });
    expect({ delivered, twice, badSignatures }).toEqual({ delivered: t.stored, twice: 0, badSignatures: 0 });
  });
});
