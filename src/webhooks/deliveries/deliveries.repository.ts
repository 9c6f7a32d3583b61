import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AttemptRow, DeliveryRow, DeliveryStatus, TEST_EVENT_TYPE } from './delivery';

export interface EventForFanOut {
  eventId: string;
  type: string;
  /** The entity (`user`, `11`): its deliveries to one subscription go out one at a time, in event order. */
  entityType: string;
  entityId: string;
  /** The entity's version from the event (0 when it carries none): orders deliveries of one entity. */
  entityVersion: number;
  body: string;
  traceparent: string | null;
  firstDelayMs: number;
}

export interface RequeueState {
  status: DeliveryStatus;
  purged: boolean;
  inFlight: boolean;
}

/** SQL for `webhook_deliveries` and their attempts, as the fan-out, the delivery log and retention use them. */
@Injectable()
export class DeliveriesRepository {
  /**
   * One delivery per enabled subscription whose filter matches each event, in the consumer's
   * transaction, in event order. A repeat of the same event adds nothing (unique subscription + event).
   */
  async fanOut(em: EntityManager, events: readonly EventForFanOut[]): Promise<number> {
    if (events.length === 0) return 0;
    const column = <T>(pick: (e: EventForFanOut) => T) => events.map(pick);
    const rows: unknown[] = await em.query(
      `INSERT INTO webhook_deliveries
         (subscription_id, message_id, event_id, event_type, entity_type, entity_id, entity_version, body, traceparent, next_attempt_at)
       SELECT s.id, 'msg_' || replace(gen_random_uuid()::text, '-', ''), e.event_id, e.type, e.entity_type, e.entity_id,
              e.entity_version, e.body, e.traceparent, now() + e.first_delay_ms * interval '1 millisecond'
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::int[])
                WITH ORDINALITY AS e(event_id, type, entity_type, entity_id, entity_version, body, traceparent, first_delay_ms, n)
         JOIN webhook_subscriptions s ON s.enabled AND s.events && ARRAY[e.type, '*']
        ORDER BY e.n, s.id
       ON CONFLICT (subscription_id, event_id) DO NOTHING
       RETURNING id`,
      [
        column((e) => e.eventId),
        column((e) => e.type),
        column((e) => e.entityType),
        column((e) => e.entityId),
        column((e) => e.entityVersion),
        column((e) => e.body),
        column((e) => e.traceparent),
        column((e) => e.firstDelayMs),
      ],
    );
    return rows.length;
  }

  /** A `webhook.test` delivery for one subscription, due at once and blocked by nothing. */
  async insertTest(em: EntityManager, subscriptionId: number, t: { eventId: string; body: string; traceparent: string }): Promise<number> {
    const [row] = await em.query(
      `INSERT INTO webhook_deliveries
         (subscription_id, message_id, event_id, event_type, entity_type, entity_id, body, traceparent, next_attempt_at)
       VALUES ($1, 'msg_' || replace(gen_random_uuid()::text, '-', ''), $2, $3, 'test', $2, $4, $5, now())
       RETURNING id`,
      [subscriptionId, t.eventId, TEST_EVENT_TYPE, t.body, t.traceparent],
    );
    return Number(row.id);
  }

  /** Newest first; `before` is the last id of the previous page. */
  async list(em: EntityManager, subscriptionId: number, status: DeliveryStatus | undefined, limit: number, before: number | undefined): Promise<DeliveryRow[]> {
    return em.query(
      `SELECT id, subscription_id, message_id, event_id, event_type, status, attempts, next_attempt_at, last_attempt_at,
              last_status_code, finished_at, payload_purged_at, created_at
         FROM webhook_deliveries
        WHERE subscription_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::bigint IS NULL OR id < $3)
        ORDER BY id DESC
        LIMIT $4`,
      [subscriptionId, status ?? null, before ?? null, limit],
    );
  }

  async find(em: EntityManager, subscriptionId: number, id: number): Promise<(DeliveryRow & { body: string | null }) | null> {
    const [row] = await em.query(
      `SELECT id, subscription_id, message_id, event_id, event_type, status, attempts, next_attempt_at, last_attempt_at,
              last_status_code, finished_at, payload_purged_at, created_at, body
         FROM webhook_deliveries
        WHERE id = $1 AND subscription_id = $2`,
      [id, subscriptionId],
    );
    return row ?? null;
  }

  async attempts(em: EntityManager, deliveryId: number): Promise<AttemptRow[]> {
    return em.query(
      `SELECT attempt, started_at, duration_ms, status_code, error, response_body
         FROM webhook_delivery_attempts WHERE delivery_id = $1 ORDER BY attempt`,
      [deliveryId],
    );
  }

  /** Locks a delivery for a manual retry and tells whether it can be re-sent. */
  async lockForRequeue(em: EntityManager, subscriptionId: number, id: number): Promise<RequeueState | null> {
    const [row] = await em.query(
      `SELECT status, body IS NULL AS purged, (status = 'pending' AND lease_until > now()) AS in_flight
         FROM webhook_deliveries WHERE id = $1 AND subscription_id = $2
          FOR UPDATE`,
      [id, subscriptionId],
    );
    return row ? { status: row.status, purged: row.purged, inFlight: row.in_flight } : null;
  }

  /** Due now, with a fresh run of the retry schedule (attempts keep counting; the run starts here). */
  async requeue(em: EntityManager, id: number): Promise<void> {
    await em.query(
      `UPDATE webhook_deliveries
          SET status = 'pending', next_attempt_at = now(), schedule_offset = attempts, finished_at = NULL
        WHERE id = $1`,
      [id],
    );
  }

  /** Re-queues the failed deliveries created since `since`; those whose payload was purged cannot be re-sent. */
  async recover(em: EntityManager, subscriptionId: number, since: Date): Promise<{ requeued: number; purged: number }> {
    const [, requeued]: [unknown[], number] = await em.query(
      `UPDATE webhook_deliveries
          SET status = 'pending', next_attempt_at = now(), schedule_offset = attempts, finished_at = NULL
        WHERE subscription_id = $1 AND status = 'failed' AND created_at >= $2 AND body IS NOT NULL`,
      [subscriptionId, since],
    );
    const [{ purged }] = await em.query(
      `SELECT count(*)::int AS purged FROM webhook_deliveries
        WHERE subscription_id = $1 AND status = 'failed' AND created_at >= $2 AND body IS NULL`,
      [subscriptionId, since],
    );
    return { requeued, purged };
  }

  /** Drops the payload and response bodies of finished deliveries older than the retention; returns how many. */
  async purgePayloads(em: EntityManager, retentionMs: number, batch: number): Promise<number> {
    const [{ count }] = await em.query(
      `WITH purged AS (
         UPDATE webhook_deliveries SET body = NULL, payload_purged_at = now()
          WHERE id IN (SELECT id FROM webhook_deliveries
                        WHERE body IS NOT NULL AND status <> 'pending'
                          AND created_at < now() - $1 * interval '1 millisecond'
                        LIMIT $2)
         RETURNING id
       ), bodies AS (
         UPDATE webhook_delivery_attempts a SET response_body = NULL
           FROM purged p WHERE a.delivery_id = p.id AND a.response_body IS NOT NULL
       )
       SELECT count(*)::int AS count FROM purged`,
      [retentionMs, batch],
    );
    return count;
  }
}
