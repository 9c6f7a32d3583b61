import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes that let the webhook dispatcher's claim read only what it takes: a subscription's pending
 * deliveries in due order (it stops after its quota), and the few that are leased (in flight).
 */
export class WebhookClaim1795618700000 implements MigrationInterface {
  name = 'WebhookClaim1795618700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX webhook_deliveries_subscription_due_idx ON webhook_deliveries (subscription_id, next_attempt_at, id)
      WHERE status = 'pending'`);
    await q.query(`
      CREATE INDEX webhook_deliveries_leased_idx ON webhook_deliveries (subscription_id, lease_until)
      WHERE status = 'pending' AND lease_until IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS webhook_deliveries_leased_idx`);
    await q.query(`DROP INDEX IF EXISTS webhook_deliveries_subscription_due_idx`);
  }
}
