import { DataSource } from 'typeorm';
import { databaseOptions } from '../src/persistence/database-options';
import { ClaimedDelivery, DeliveryQueue } from '../src/webhooks/dispatch/delivery-queue';

/**
 * Claiming and recording results are one statement each (no transaction of their own): the claim
 * leases due deliveries; the record holds the attempts, the deliveries' new state and the
 * subscriptions' success note. Against the real PostgreSQL, as the dispatcher calls them; no app
 * runs, so nothing else sends these deliveries.
 */
describe('the delivery queue', () => {
  let dataSource: DataSource;
  const queue = new DeliveryQueue();
  let subscriptionId: number;

  beforeAll(async () => {
    dataSource = await new DataSource(
      databaseOptions({ url: process.env.DATABASE_URL!, poolSize: 2, poolReserved: 0, migrateOnStart: false }),
    ).initialize();
  });
  beforeEach(async () => {
    const [sub] = await dataSource.query(
      `INSERT INTO webhook_subscriptions (url, events, secret) VALUES ('http://127.0.0.1:9/queue-spec', '{order_placed}', 'whsec_c3BlYw==') RETURNING id`,
    );
    subscriptionId = Number(sub.id);
    const tag = `${Date.now()}-${Math.random()}`;
    await dataSource.query(
      `INSERT INTO webhook_deliveries (subscription_id, message_id, event_id, event_type, entity_type, entity_id, entity_version, body, next_attempt_at)
       SELECT $1, 'msg_' || $2 || '-' || i, 'evt-' || $2 || '-' || i, 'order_placed', 'order', $2 || '-' || i, 1, '{}', now()
         FROM generate_series(1, 3) i`,
      [subscriptionId, tag],
    );
  });
  afterEach(async () => {
    // Deliveries and attempts go with it, so no later suite's dispatcher finds them.
    await dataSource.query(`DELETE FROM webhook_subscriptions WHERE id = $1`, [subscriptionId]);
  });
  afterAll(async () => {
    await dataSource?.destroy();
  });

  async function claimAll(): Promise<ClaimedDelivery[]> {
    const claimed = await queue.claim(dataSource.manager, { endpointConcurrency: 5, slots: 10, leaseMs: 60_000 });
    return claimed.filter((d) => d.subscriptionId === subscriptionId).sort((a, b) => a.id - b.id);
  }

  const result = (statusCode: number) => ({ startedAt: new Date(), durationMs: 3, statusCode, responseBody: `answer ${statusCode}` });

  it('leases what it claims, and takes over a delivery whose lease ran out, logging the cut-short attempt', async () => {
    const first = await claimAll();
    expect(first.map((d) => d.attempt)).toEqual([1, 1, 1]);
    expect(new Set(first.map((d) => d.leaseToken)).size).toBe(3);
    // Leased: a second claim finds nothing of this subscription's.
    expect(await claimAll()).toEqual([]);

    const [expired] = first;
    await dataSource.query(`UPDATE webhook_deliveries SET lease_until = now() - interval '1 second' WHERE id = $1`, [expired.id]);
    const second = await claimAll();
    expect(second.map((d) => [d.id, d.attempt])).toEqual([[expired.id, 2]]);
    expect(second[0].leaseToken).not.toBe(expired.leaseToken);
    const attempts: Record<string, unknown>[] = await dataSource.query(
      `SELECT attempt, error FROM webhook_delivery_attempts WHERE delivery_id = $1`,
      [expired.id],
    );
    expect(attempts).toEqual([{ attempt: 1, error: expect.stringMatching(/^interrupted/) }]);
  });

  it('never JIT-compiles the claim, whose cost the planner overestimates with a large backlog', async () => {
    // With 100,000 pending deliveries the lease statement was costed above jit_above_cost, and
    // compiling it took 40 ms of a claim that runs in 4.
    const [fn] = await dataSource.query(`SELECT proconfig FROM pg_proc WHERE proname = 'webhook_claim'`);
    expect(fn.proconfig).toContain('jit=off');
  });

  it('records every attempt, changes only the deliveries whose lease it holds, and notes the success', async () => {
    const [succeeded, retried, takenOver] = await claimAll();
    expect(takenOver).toBeDefined();
    // Another instance took the third over after its lease ran out.
    await dataSource.query(`UPDATE webhook_deliveries SET lease_token = gen_random_uuid() WHERE id = $1`, [takenOver.id]);

    const owned = await queue.complete(
      dataSource.manager,
      [
        { delivery: succeeded, result: result(204), next: { status: 'succeeded' } },
        { delivery: retried, result: result(503), next: { status: 'pending', retryInMs: 60_000 } },
        { delivery: takenOver, result: result(204), next: { status: 'succeeded' } },
      ],
      [subscriptionId],
    );
    expect(owned).toEqual([true, true, false]);

    const rows: Record<string, unknown>[] = await dataSource.query(
      `SELECT id::int, status, lease_token IS NULL AS unleased, finished_at IS NOT NULL AS finished, last_status_code,
              next_attempt_at > now() + interval '50 seconds' AS later
         FROM webhook_deliveries WHERE subscription_id = $1 ORDER BY id`,
      [subscriptionId],
    );
    expect(rows).toEqual([
      { id: succeeded.id, status: 'succeeded', unleased: true, finished: true, last_status_code: 204, later: null },
      { id: retried.id, status: 'pending', unleased: true, finished: false, last_status_code: 503, later: true },
      // Untouched: its state belongs to the instance that holds it now.
      { id: takenOver.id, status: 'pending', unleased: false, finished: false, last_status_code: null, later: false },
    ]);
    const attempts: Record<string, unknown>[] = await dataSource.query(
      `SELECT delivery_id::int, attempt, status_code, response_body FROM webhook_delivery_attempts
        WHERE delivery_id = ANY($1::bigint[]) ORDER BY delivery_id`,
      [[succeeded.id, retried.id, takenOver.id]],
    );
    // A late result is still the log's truth about that attempt.
    expect(attempts).toEqual([
      { delivery_id: succeeded.id, attempt: 1, status_code: 204, response_body: 'answer 204' },
      { delivery_id: retried.id, attempt: 1, status_code: 503, response_body: 'answer 503' },
      { delivery_id: takenOver.id, attempt: 1, status_code: 204, response_body: 'answer 204' },
    ]);
    const [sub] = await dataSource.query(`SELECT last_success_at IS NOT NULL AS noted FROM webhook_subscriptions WHERE id = $1`, [subscriptionId]);
    expect(sub.noted).toBe(true);
  });

  it('notes no success for a subscription none of whose results it recorded', async () => {
    const claimed = await claimAll();
    await dataSource.query(`UPDATE webhook_deliveries SET lease_token = gen_random_uuid() WHERE subscription_id = $1`, [subscriptionId]);
    const owned = await queue.complete(
      dataSource.manager,
      claimed.map((delivery) => ({ delivery, result: result(204), next: { status: 'succeeded' as const } })),
      [subscriptionId],
    );
    expect(owned).toEqual([false, false, false]);
    const [sub] = await dataSource.query(`SELECT last_success_at IS NULL AS untouched FROM webhook_subscriptions WHERE id = $1`, [subscriptionId]);
    expect(sub.untouched).toBe(true);
  });
});
