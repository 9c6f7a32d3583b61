import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { DeliveryStatus } from '../deliveries/delivery';
import { FAN_OUT_CONSUMER } from '../deliveries/fan-out.service';
import { SUCCESS_NOTE_DUE } from '../subscriptions/subscriptions.repository';
import type { SendResult } from './webhook-sender';

export interface ClaimLimits {
  /** Requests in flight per subscription, across instances. */
  endpointConcurrency: number;
  /** How many deliveries this instance can start now. */
  slots: number;
  leaseMs: number;
}

/** A delivery this instance owns until its lease ends. */
export interface ClaimedDelivery {
  id: number;
  subscriptionId: number;
  messageId: string;
  eventType: string;
  body: string;
  traceparent: string | null;
  /** This attempt's number over the delivery's life. */
  attempt: number;
  /** This attempt's number in the current run of the retry schedule (manual retries start a new run). */
  attemptInRun: number;
  leaseToken: string;
  url: string;
  /** The current secret, then the previous one while the rotation's grace period lasts. */
  secrets: string[];
}

export interface Completion {
  status: DeliveryStatus;
  /** With status pending: when to try again. */
  retryInMs?: number;
}

/**
 * Events of one entity travel on different topics (user_created, user_updated), consumed side by side,
 * so a later event can reach the fan-out first. A delivery waits while an earlier version of its
 * entity, committed to the event log, has not been fanned out yet, but no longer than this.
 */
export const ORDERING_WAIT_MS = 60_000;

// Constant SQL fragments shared by the claim's two statements; every value stays a parameter.

/** Requests in flight (leased) for subscription `s`, read through the small index of leased deliveries. */
const IN_FLIGHT = `(SELECT count(*)::int FROM webhook_deliveries f WHERE f.subscription_id = s.id AND f.status = 'pending' AND f.lease_until > now())`;

/**
 * A pending delivery `d` that may be sent now: due, not leased, the head of its (subscription, entity)
 * line, and no earlier version of its entity logged in the last ORDERING_WAIT_MS and not yet fanned
 * out. Parameters: $3 ORDERING_WAIT_MS, $4 the fan-out consumer's name.
 *
 * `OFFSET 0` keeps the planner from turning these checks into joins over every pending delivery (150–250 ms
 * with 40,000 pending): checked per candidate, in due order, the walk stops as soon as it has enough.
 */
const SENDABLE = `d.status = 'pending' AND d.next_attempt_at <= now() AND (d.lease_until IS NULL OR d.lease_until <= now())
  AND NOT EXISTS (
    SELECT 1 FROM webhook_deliveries e
     WHERE e.subscription_id = d.subscription_id AND e.entity_type = d.entity_type AND e.entity_id = d.entity_id
       AND e.status = 'pending' AND (e.entity_version, e.id) < (d.entity_version, d.id) OFFSET 0)
  AND (d.entity_version <= 1 OR NOT EXISTS (
    SELECT 1 FROM event_log l
     WHERE l.entity_type = d.entity_type AND l.entity_id = d.entity_id AND l.version < d.entity_version
       AND l.recorded_at > now() - $3 * interval '1 millisecond'
       AND NOT EXISTS (SELECT 1 FROM inbox i WHERE i.consumer = $4 AND i.message_id = l.event_id)))`;

export const INTERRUPTED = 'interrupted: the instance sending it stopped before recording a result; retried after its lease expired';

/**
 * The delivery queue in Postgres. Claiming leases due deliveries to one instance: several instances
 * never send the same attempt, a crashed instance's delivery is retried once its lease expires (with
 * the same webhook-id), at most `endpointConcurrency` requests per subscription are in flight, and only
 * the head of each (subscription, entity) line may be sent, so an entity's deliveries go out in event
 * order (by entity version) while a retrying head holds back nothing but its own line.
 */
@Injectable()
export class DeliveryQueue {
  /** Claims and leases up to `slots` deliveries. Run inside a transaction (two statements, see below). */
  async claim(em: EntityManager, limits: ClaimLimits): Promise<ClaimedDelivery[]> {
    const shared = [limits.endpointConcurrency, limits.slots, ORDERING_WAIT_MS, FAN_OUT_CONSUMER];
    // 1. Lock the subscriptions that can make progress. The row lock serialises claiming per
    //    subscription across instances (SKIP LOCKED: others take other subscriptions meanwhile).
    const subscriptions: { id: string }[] = await em.query(
      `SELECT s.id FROM webhook_subscriptions s
        WHERE s.enabled
          AND ${IN_FLIGHT} < $1
          AND EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.subscription_id = s.id AND ${SENDABLE} OFFSET 0)
        ORDER BY s.id
        LIMIT $2
          FOR NO KEY UPDATE SKIP LOCKED`,
      shared,
    );
    if (subscriptions.length === 0) return [];

    // 2. A new statement sees a new snapshot (READ COMMITTED), so it counts the leases of any claim
    //    that held these locks before us. Per subscription, walk its pending deliveries oldest due
    //    first and take up to its free share; then lease the first `slots`, taking turns between them.
    const [rows] = await em.query(
      `WITH quota AS (
         SELECT s.id AS subscription_id, GREATEST($1 - ${IN_FLIGHT}, 0) AS n FROM unnest($5::bigint[]) AS s(id)
       ), ready AS (
         SELECT c.*, row_number() OVER (PARTITION BY c.subscription_id ORDER BY c.next_attempt_at, c.id) AS rank
           FROM quota q CROSS JOIN LATERAL (
             SELECT d.id, d.subscription_id, d.next_attempt_at, d.lease_token AS previous_token, d.leased_at AS previous_leased_at
               FROM webhook_deliveries d
              WHERE d.subscription_id = q.subscription_id AND ${SENDABLE}
              ORDER BY d.next_attempt_at, d.id
              LIMIT q.n
           ) c
       ), chosen AS (
         SELECT * FROM ready ORDER BY rank, id LIMIT $2
       )
       UPDATE webhook_deliveries d
          SET attempts = d.attempts + 1, lease_token = gen_random_uuid(), leased_at = now(),
              lease_until = now() + $6 * interval '1 millisecond'
         FROM chosen c JOIN webhook_subscriptions s ON s.id = c.subscription_id
        WHERE d.id = c.id AND d.status = 'pending' AND (d.lease_until IS NULL OR d.lease_until <= now())
       RETURNING d.id, d.subscription_id, d.message_id, d.event_type, d.body, d.traceparent, d.attempts,
                 d.schedule_offset, d.lease_token, c.previous_token, c.previous_leased_at, s.url, s.secret,
                 CASE WHEN s.previous_secret_expires_at > now() THEN s.previous_secret END AS previous_secret`,
      [...shared, subscriptions.map((s) => s.id), limits.leaseMs],
    );

    const claimed: ClaimedDelivery[] = [];
    for (const r of rows) {
      // A lease that ran out without a result: the attempt before this one was cut short.
      if (r.previous_token) {
        await em.query(
          `INSERT INTO webhook_delivery_attempts (delivery_id, attempt, started_at, error)
           VALUES ($1, $2, $3, $4) ON CONFLICT (delivery_id, attempt) DO NOTHING`,
          [r.id, r.attempts - 1, r.previous_leased_at, INTERRUPTED],
        );
      }
      claimed.push({
        id: Number(r.id),
        subscriptionId: Number(r.subscription_id),
        messageId: r.message_id,
        eventType: r.event_type,
        body: r.body,
        traceparent: r.traceparent,
        attempt: r.attempts,
        attemptInRun: r.attempts - r.schedule_offset,
        leaseToken: r.lease_token,
        url: r.url,
        secrets: r.previous_secret ? [r.secret, r.previous_secret] : [r.secret],
      });
    }
    return claimed;
  }

  /**
   * Records the attempts and, for each delivery this instance still holds the lease of, its new state,
   * and notes a success on `succeededSubscriptions` that had one of them recorded: one statement for
   * the lot, atomic without a transaction of its own, so the usual batch of successes costs one round
   * trip. Answers, per completion, false when the lease was lost (it expired and another instance took
   * the delivery over) or the delivery is gone (its subscription was deleted).
   */
  async complete(
    em: EntityManager,
    completions: readonly { delivery: ClaimedDelivery; result: SendResult; next: Completion }[],
    succeededSubscriptions: readonly number[] = [],
  ): Promise<boolean[]> {
    if (completions.length === 0) return [];
    const rows: { id: string; ours: boolean }[] = await em.query(
      `WITH t AS (
         SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::int[], $4::timestamptz[], $5::int[], $6::int[], $7::text[],
                              $8::text[], $9::text[], $10::int[])
                    AS t(id, token, attempt, started_at, duration_ms, status_code, error, response_body, status, retry_ms)
       ),
       -- Row locks, in id order, keep the deliveries from being deleted (with their subscription) until we commit.
       locked AS (
         SELECT d.id, d.subscription_id, d.lease_token = t.token AS ours
           FROM t JOIN webhook_deliveries d ON d.id = t.id
          ORDER BY d.id
            FOR UPDATE OF d
       ),
       -- A late result replaces the "interrupted" placeholder another instance may have written for it.
       attempts AS (
         INSERT INTO webhook_delivery_attempts (delivery_id, attempt, started_at, duration_ms, status_code, error, response_body)
         SELECT t.id, t.attempt, t.started_at, t.duration_ms, t.status_code, t.error, t.response_body
           FROM t JOIN locked l ON l.id = t.id
         ON CONFLICT (delivery_id, attempt) DO UPDATE
           SET started_at = EXCLUDED.started_at, duration_ms = EXCLUDED.duration_ms, status_code = EXCLUDED.status_code,
               error = EXCLUDED.error, response_body = EXCLUDED.response_body
       ),
       updated AS (
         UPDATE webhook_deliveries AS d
            SET status = t.status,
                next_attempt_at = CASE WHEN t.status = 'pending' THEN now() + t.retry_ms * interval '1 millisecond' END,
                finished_at = CASE WHEN t.status <> 'pending' THEN now() END,
                lease_token = NULL, lease_until = NULL, leased_at = NULL,
                last_attempt_at = t.started_at, last_status_code = t.status_code
           FROM t JOIN locked l ON l.id = t.id AND l.ours
          WHERE d.id = t.id AND d.lease_token = t.token
       ),
       -- Subscription rows locked in id order, as every transaction that locks several takes them.
       due AS (
         SELECT s.id FROM webhook_subscriptions s
          WHERE s.id = ANY($11::bigint[]) AND s.id IN (SELECT subscription_id FROM locked WHERE ours) AND ${SUCCESS_NOTE_DUE}
          ORDER BY s.id
            FOR NO KEY UPDATE
       ),
       noted AS (
         UPDATE webhook_subscriptions s SET last_success_at = now(), failing_since = NULL FROM due WHERE s.id = due.id
       )
       SELECT id, ours FROM locked`,
      [
        completions.map((c) => c.delivery.id),
        completions.map((c) => c.delivery.leaseToken),
        completions.map((c) => c.delivery.attempt),
        completions.map((c) => c.result.startedAt),
        completions.map((c) => c.result.durationMs),
        completions.map((c) => c.result.statusCode ?? null),
        completions.map((c) => c.result.error ?? null),
        completions.map((c) => c.result.responseBody ?? null),
        completions.map((c) => c.next.status),
        completions.map((c) => c.next.retryInMs ?? 0),
        succeededSubscriptions,
      ],
    );
    const ours = new Map(rows.map((r) => [Number(r.id), r.ours === true]));
    return completions.map((c) => ours.get(c.delivery.id) === true);
  }
}
