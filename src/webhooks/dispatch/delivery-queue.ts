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

/** A row of `webhook_claim` (bigints arrive as strings). */
interface ClaimRow {
  id: string;
  subscription_id: string;
  message_id: string;
  event_type: string;
  body: string;
  traceparent: string | null;
  attempts: number;
  schedule_offset: number;
  lease_token: string;
  url: string;
  secret: string;
  previous_secret: string | null;
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

/**
 * The delivery queue in Postgres. Claiming leases due deliveries to one instance: several instances
 * never send the same attempt, a crashed instance's delivery is retried once its lease expires (with
 * the same webhook-id), at most `endpointConcurrency` requests per subscription are in flight, and only
 * the head of each (subscription, entity) line may be sent, so an entity's deliveries go out in event
 * order (by entity version) while a retrying head holds back nothing but its own line.
 */
@Injectable()
export class DeliveryQueue {
  /**
   * Claims and leases up to `slots` deliveries in one round trip: the function `webhook_claim`
   * (migration 1795618800000) locks the subscriptions that can make progress, then, in a statement of
   * its own that sees the leases of any claim that held those locks before, leases their sendable
   * deliveries. Needs no transaction around it.
   */
  async claim(em: EntityManager, limits: ClaimLimits): Promise<ClaimedDelivery[]> {
    const rows: ClaimRow[] = await em.query(`SELECT * FROM webhook_claim($1, $2, $3, $4, $5)`, [
      limits.endpointConcurrency,
      limits.slots,
      ORDERING_WAIT_MS,
      FAN_OUT_CONSUMER,
      limits.leaseMs,
    ]);
    return rows.map((r) => ({
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
    }));
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
