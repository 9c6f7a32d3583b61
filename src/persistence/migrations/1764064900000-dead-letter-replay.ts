import { MigrationInterface, QueryRunner } from 'typeorm';

/** Remembers when a dead letter was sent back to its topic, so it is replayed once. */
export class DeadLetterReplay1764064900000 implements MigrationInterface {
  name = 'DeadLetterReplay1764064900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE dead_letters ADD COLUMN replayed_at timestamptz NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE dead_letters DROP COLUMN replayed_at`);
  }
}
