import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The webhook dispatcher's claim as one function, so a claim costs one round trip instead of four
 * (BEGIN, two statements, COMMIT): the claim loop spent most of its time waiting on those round trips.
 * A VOLATILE function's statements each take a new snapshot (READ COMMITTED), as the two separate
 * statements did, so the second still counts the leases of a claim that held the locks before it.
 *
 * The rules it enforces are DeliveryQueue's (src/webhooks/dispatch/delivery-queue.ts). To change
 * them, add a migration that replaces the function; this one stays as it ran.
 */
export class WebhookClaimFunction1795618800000 implements MigrationInterface {
  name = 'WebhookClaimFunction1795618800000';

  async up(q: QueryRunner): Promise<void> {
    // Every lookup of due deliveries goes through webhook_deliveries_subscription_due_idx; this one
    // was only written to, on every fan-out and every claim.
    await q.query(`DROP INDEX webhook_deliveries_due_idx`);

    // The deliveries of one subscription that may be sent now, oldest due first, at most max_count: due,
    // not leased, the head of their (subscription, entity) line, and no earlier version of their entity
    // logged in the last ordering_wait_ms and not yet fanned out. STABLE and plain SQL, so the planner
    // inlines it where it is called. OFFSET 0 keeps the planner from turning the checks into joins over
    // every pending delivery (150–250 ms with 40,000 pending): checked per candidate in due order, the
    // walk stops as soon as it has enough.
    await q.query(`
      CREATE FUNCTION webhook_sendable(sub_id bigint, ordering_wait_ms int, fan_out_consumer text, max_count int)
      RETURNS TABLE (id bigint, next_attempt_at timestamptz, previous_token uuid, previous_leased_at timestamptz)
      LANGUAGE sql STABLE
      AS $fn$
        SELECT d.id, d.next_attempt_at, d.lease_token, d.leased_at
          FROM webhook_deliveries d
         WHERE d.subscription_id = sub_id AND d.status = 'pending' AND d.next_attempt_at <= now()
           AND (d.lease_until IS NULL OR d.lease_until <= now())
           AND NOT EXISTS (
             SELECT 1 FROM webhook_deliveries e
              WHERE e.subscription_id = d.subscription_id AND e.entity_type = d.entity_type AND e.entity_id = d.entity_id
                AND e.status = 'pending' AND (e.entity_version, e.id) < (d.entity_version, d.id) OFFSET 0)
           AND (d.entity_version <= 1 OR NOT EXISTS (
             SELECT 1 FROM event_log l
              WHERE l.entity_type = d.entity_type AND l.entity_id = d.entity_id AND l.version < d.entity_version
                AND l.recorded_at > now() - ordering_wait_ms * interval '1 millisecond'
                AND NOT EXISTS (SELECT 1 FROM inbox i WHERE i.consumer = fan_out_consumer AND i.message_id = l.event_id)))
         ORDER BY d.next_attempt_at, d.id
         LIMIT max_count
      $fn$`);

    // Requests in flight (leased) for one subscription, read through the small index of leased
    // deliveries. A set-returning STABLE SQL function, so that it is inlined where it is joined.
    await q.query(`
      CREATE FUNCTION webhook_in_flight(sub_id bigint) RETURNS TABLE (n int) LANGUAGE sql STABLE
      AS $fn$
        SELECT count(*)::int FROM webhook_deliveries f WHERE f.subscription_id = sub_id AND f.status = 'pending' AND f.lease_until > now()
      $fn$`);

    await q.query(`
      CREATE FUNCTION webhook_claim(endpoint_concurrency int, slot_count int, ordering_wait_ms int, fan_out_consumer text, lease_ms int)
      RETURNS TABLE (id bigint, subscription_id bigint, message_id text, event_type text, body text, traceparent text,
                     attempts int, schedule_offset int, lease_token uuid, url text, secret text, previous_secret text)
      LANGUAGE plpgsql VOLATILE
      -- Planned for each call's values, as the statements sent one by one were (a generic plan cannot
      -- see how small the LIMITs are). No JIT: the planner cannot see either that the per-subscription
      -- LIMIT is small, costs the lease statement far above jit_above_cost, and compiling it took 40 ms
      -- of a claim that runs in 2.
      SET plan_cache_mode = force_custom_plan
      SET jit = off
      AS $fn$
      #variable_conflict use_column
      DECLARE
        locked bigint[];
      BEGIN
        -- 1. Lock the subscriptions that can make progress: below their share of requests in flight
        --    and with a sendable delivery. The row lock serialises claiming per subscription across
        --    instances; SKIP LOCKED lets others take other subscriptions meanwhile.
        SELECT array_agg(s.id) INTO locked FROM (
          SELECT s.id FROM webhook_subscriptions s CROSS JOIN LATERAL webhook_in_flight(s.id) f
           WHERE s.enabled AND f.n < endpoint_concurrency
             AND EXISTS (SELECT 1 FROM webhook_sendable(s.id, ordering_wait_ms, fan_out_consumer, 1))
           ORDER BY s.id
           LIMIT slot_count
             FOR NO KEY UPDATE OF s SKIP LOCKED) s;
        IF locked IS NULL THEN
          RETURN;
        END IF;

        -- 2. A new snapshot. Per subscription, its free share of its sendable deliveries, oldest due
        --    first; then lease the first slot_count, taking turns between subscriptions. A lease that
        --    ran out without a result means the attempt before this one was cut short: record it.
        RETURN QUERY
        WITH quota AS (
          SELECT s.id AS subscription_id, GREATEST(endpoint_concurrency - f.n, 0) AS n
            FROM unnest(locked) AS s(id) CROSS JOIN LATERAL webhook_in_flight(s.id) f
        ), ready AS (
          SELECT c.*, row_number() OVER (PARTITION BY q.subscription_id ORDER BY c.next_attempt_at, c.id) AS rank, q.subscription_id
            FROM quota q CROSS JOIN LATERAL webhook_sendable(q.subscription_id, ordering_wait_ms, fan_out_consumer, q.n) c
        ), chosen AS (
          SELECT * FROM ready ORDER BY rank, id LIMIT slot_count
        ), claimed AS (
          UPDATE webhook_deliveries d
             SET attempts = d.attempts + 1, lease_token = gen_random_uuid(), leased_at = now(),
                 lease_until = now() + lease_ms * interval '1 millisecond'
            FROM chosen c
           WHERE d.id = c.id AND d.status = 'pending' AND (d.lease_until IS NULL OR d.lease_until <= now())
          RETURNING d.id, d.subscription_id, d.message_id, d.event_type, d.body, d.traceparent, d.attempts,
                    d.schedule_offset, d.lease_token, c.previous_token, c.previous_leased_at
        ), interrupted AS (
          INSERT INTO webhook_delivery_attempts (delivery_id, attempt, started_at, error)
          SELECT c.id, c.attempts - 1, c.previous_leased_at,
                 'interrupted: the instance sending it stopped before recording a result; retried after its lease expired'
            FROM claimed c WHERE c.previous_token IS NOT NULL
          ON CONFLICT (delivery_id, attempt) DO NOTHING
        )
        SELECT c.id, c.subscription_id, c.message_id, c.event_type, c.body, c.traceparent, c.attempts, c.schedule_offset,
               c.lease_token, s.url, s.secret, CASE WHEN s.previous_secret_expires_at > now() THEN s.previous_secret END
          FROM claimed c JOIN webhook_subscriptions s ON s.id = c.subscription_id;
      END
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS webhook_claim(int, int, int, text, int)`);
    await q.query(`DROP FUNCTION IF EXISTS webhook_sendable(bigint, int, text, int)`);
    await q.query(`DROP FUNCTION IF EXISTS webhook_in_flight(bigint)`);
    await q.query(`CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`);
  }
}
