import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { SubscriptionRow } from './subscription';

export interface SubscriptionChanges {
  url?: string;
  events?: string[];
  /** Present (possibly null) when the description should change. */
  description?: string | null;
  enabled?: boolean;
}

export const MANUALLY_DISABLED = 'disabled by an administrator';

/**
 * Whether subscription `s` needs its success noted. Busy endpoints succeed many times a second: a row is
 * refreshed at most once a minute, so most notes lock nothing. Used by DeliveryQueue.complete too.
 */
export const SUCCESS_NOTE_DUE = `(s.failing_since IS NOT NULL OR s.last_success_at IS NULL OR s.last_success_at < now() - interval '1 minute')`;

/** SQL for `webhook_subscriptions`: one single-purpose method per question or change. */
@Injectable()
export class SubscriptionsRepository {
  async insert(em: EntityManager, s: { url: string; events: string[]; description: string | null; secret: string }): Promise<SubscriptionRow> {
    const [{ id }] = await em.query(
      `INSERT INTO webhook_subscriptions (url, events, description, secret) VALUES ($1, $2, $3, $4) RETURNING id`,
      [s.url, s.events, s.description, s.secret],
    );
    return (await this.find(em, Number(id)))!;
  }

  async find(em: EntityManager, id: number): Promise<SubscriptionRow | null> {
    // Every column but the secrets, so a secret never leaves the database on a read.
    const [row] = await em.query(
      `SELECT id, url, events, description, enabled, disabled_reason, disabled_at, failing_since, last_success_at,
              previous_secret_expires_at, version, created_at, updated_at
         FROM webhook_subscriptions WHERE id = $1`,
      [id],
    );
    return row ?? null;
  }

  async list(em: EntityManager, limit: number, after: number): Promise<SubscriptionRow[]> {
    return em.query(
      `SELECT id, url, events, description, enabled, disabled_reason, disabled_at, failing_since, last_success_at,
              previous_secret_expires_at, version, created_at, updated_at
         FROM webhook_subscriptions WHERE id > $1 ORDER BY id LIMIT $2`,
      [after, limit],
    );
  }

  /**
   * Applies the given changes. Enabling a disabled subscription clears why it was disabled and starts
   * a fresh no-success period; disabling one by hand records that an administrator did it.
   */
  async update(em: EntityManager, id: number, c: SubscriptionChanges): Promise<SubscriptionRow | null> {
    // Every SET expression reads the row as it was, so `enabled` below is the old value.
    const [rows] = await em.query(
      `UPDATE webhook_subscriptions SET
         url = COALESCE($2, url),
         events = COALESCE($3, events),
         description = CASE WHEN $4 THEN $5 ELSE description END,
         enabled = COALESCE($6, enabled),
         disabled_reason = CASE WHEN $6 IS NULL OR $6 = enabled THEN disabled_reason WHEN $6 THEN NULL ELSE $7 END,
         disabled_at = CASE WHEN $6 IS NULL OR $6 = enabled THEN disabled_at WHEN $6 THEN NULL ELSE now() END,
         failing_since = CASE WHEN $6 AND NOT enabled THEN NULL ELSE failing_since END,
         version = version + 1,
         updated_at = now()
       WHERE id = $1
       RETURNING id`,
      [id, c.url ?? null, c.events ?? null, c.description !== undefined, c.description ?? null, c.enabled ?? null, MANUALLY_DISABLED],
    );
    return rows.length > 0 ? this.find(em, id) : null;
  }

  async remove(em: EntityManager, id: number): Promise<boolean> {
    const [, affected]: [unknown[], number] = await em.query(`DELETE FROM webhook_subscriptions WHERE id = $1`, [id]);
    return affected > 0;
  }

  /** Replaces the secret; the old one keeps signing until the grace period ends (none with a zero grace). */
  async rotateSecret(em: EntityManager, id: number, secret: string, graceMs: number): Promise<SubscriptionRow | null> {
    const [rows] = await em.query(
      `UPDATE webhook_subscriptions SET
         previous_secret = CASE WHEN $3 > 0 THEN secret END,
         previous_secret_expires_at = CASE WHEN $3 > 0 THEN now() + $3 * interval '1 millisecond' END,
         secret = $2,
         version = version + 1,
         updated_at = now()
       WHERE id = $1
       RETURNING id`,
      [id, secret, graceMs],
    );
    return rows.length > 0 ? this.find(em, id) : null;
  }

  /** Disables an enabled subscription; null when it was not enabled (someone else got there first). */
  async disable(em: EntityManager, id: number, reason: string): Promise<SubscriptionRow | null> {
    const [rows] = await em.query(
      `UPDATE webhook_subscriptions SET enabled = false, disabled_reason = $2, disabled_at = now(),
         version = version + 1, updated_at = now()
       WHERE id = $1 AND enabled
       RETURNING id`,
      [id, reason],
    );
    return rows.length > 0 ? this.find(em, id) : null;
  }

  /** Notes a success (see SUCCESS_NOTE_DUE). */
  async recordSuccess(em: EntityManager, id: number): Promise<void> {
    await em.query(
      `WITH due AS (SELECT id FROM webhook_subscriptions s WHERE id = $1 AND ${SUCCESS_NOTE_DUE} FOR NO KEY UPDATE)
       UPDATE webhook_subscriptions s SET last_success_at = now(), failing_since = NULL FROM due WHERE s.id = due.id`,
      [id],
    );
  }

  /** Notes a failure; true when the subscription is enabled and has had no success for `periodMs`. */
  async recordFailure(em: EntityManager, id: number, periodMs: number): Promise<boolean> {
    await em.query(`UPDATE webhook_subscriptions SET failing_since = now() WHERE id = $1 AND failing_since IS NULL`, [id]);
    const [row] = await em.query(
      `SELECT enabled AND failing_since <= now() - $2 * interval '1 millisecond' AS overdue FROM webhook_subscriptions WHERE id = $1`,
      [id, periodMs],
    );
    return row?.overdue === true;
  }

  /** Enabled subscriptions that have had no success for `periodMs`. */
  async overdue(em: EntityManager, periodMs: number): Promise<number[]> {
    const rows: { id: string }[] = await em.query(
      `SELECT id FROM webhook_subscriptions WHERE enabled AND failing_since <= now() - $1 * interval '1 millisecond' ORDER BY id`,
      [periodMs],
    );
    return rows.map((r) => Number(r.id));
  }
}
