import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';

/** `inbound_webhook_messages`: the webhook-ids the inbound endpoints have accepted. */
@Injectable()
export class InboundWebhooksRepository {
  /** Records a webhook-id; false when it was already recorded (a replay or a sender's retry). */
  async remember(em: EntityManager, messageId: string, topic: string): Promise<boolean> {
    const rows: unknown[] = await em.query(
      `INSERT INTO inbound_webhook_messages (message_id, topic) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`,
      [messageId, topic],
    );
    return rows.length > 0;
  }

  /** Forgets ids older than the retention: a replay that old fails the timestamp check anyway. */
  async purgeOlderThan(em: EntityManager, retentionMs: number): Promise<number> {
    const [, affected]: [unknown[], number] = await em.query(
      `DELETE FROM inbound_webhook_messages WHERE received_at < now() - $1 * interval '1 millisecond'`,
      [retentionMs],
    );
    return affected;
  }
}
