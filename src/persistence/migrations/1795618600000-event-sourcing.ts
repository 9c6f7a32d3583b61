import { MigrationInterface, QueryRunner } from 'typeorm';

/** Schema versions in the event log, and snapshots that let time travel start part-way through a history. */
export class EventSourcing1795618600000 implements MigrationInterface {
  name = 'EventSourcing1795618600000';

  async up(q: QueryRunner): Promise<void> {
    // The schema version the payload was written with; everything logged before versions existed is 1.
    // Adding a column with a constant default rewrites no row, so the append-only trigger is not involved.
    await q.query(`ALTER TABLE event_log ADD COLUMN schema_version integer NOT NULL DEFAULT 1`);
    // Time travel looks for an entity's first event after an instant.
    await q.query(`CREATE INDEX event_log_entity_time_idx ON event_log (entity_type, entity_id, occurred_at)`);

    // An entity's folded state after the event at `position`. Snapshots are a cache: deleting them all
    // loses nothing, and `fold_version` retires them when the fold or an upcaster changes.
    await q.query(`
      CREATE TABLE snapshots (
        entity_type   text        NOT NULL,
        entity_id     text        NOT NULL,
        fold_version  integer     NOT NULL,
        position      bigint      NOT NULL,
        events        integer     NOT NULL,
        state         jsonb       NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (entity_type, entity_id, fold_version, position)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS snapshots`);
    await q.query(`DROP INDEX IF EXISTS event_log_entity_time_idx`);
    await q.query(`ALTER TABLE event_log DROP COLUMN IF EXISTS schema_version`);
  }
}
