import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { OutgoingRecord } from '../kafka/kafka.service';

export interface OutboxRow {
  id: string;
  topic: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** The outbox table: records wait here, committed with the state change, until the relay publishes them. */
@Injectable()
export class OutboxService {
  async enqueue(em: EntityManager, record: OutgoingRecord & { eventId?: string }): Promise<void> {
    const insert = outboxInsert(record);
    await em.query(insert.sql, insert.params);
  }

  /**
   * Takes the oldest waiting rows, in id order, if this transaction gets the advisory lock `lockKey`
   * (else 'busy'): the lock and the delete in one statement, one round trip. The rows stay until the
   * transaction commits, so a batch that could not be published is rolled back and taken again.
   * Taking "everything still here" rather than "ids above the last one seen" is what keeps a row whose
   * id was allocated early but committed late from being skipped.
   *
   * The statement's snapshot predates its lock, so when another relay commits in between, rows it
   * already deleted are in the window but skipped by the delete: `more` then still says the window was
   * full, and the caller goes on at once rather than sleeping with rows waiting.
   */
  async take(em: EntityManager, lockKey: number, limit: number): Promise<'busy' | { rows: OutboxRow[]; more: boolean }> {
    const result: (Partial<OutboxRow> & { locked: boolean; picked: number })[] = await em.query(
      `WITH relay AS (SELECT pg_try_advisory_xact_lock($1) AS locked),
            picked AS (SELECT id FROM outbox WHERE (SELECT locked FROM relay) ORDER BY id LIMIT $2),
            taken AS (DELETE FROM outbox WHERE id IN (SELECT id FROM picked) RETURNING id, topic, key, value, headers)
       SELECT relay.locked, (SELECT count(*)::int FROM picked) AS picked, taken.*
       FROM relay LEFT JOIN taken ON true ORDER BY taken.id`,
      [lockKey, limit],
    );
    const [{ locked, picked }] = result;
    if (!locked) return 'busy';
    // With nothing taken, the LEFT JOIN still gives one row, without an id.
    const rows = result
      .filter((r): r is OutboxRow & { locked: boolean; picked: number } => r.id != null)
      .map(({ id, topic, key, value, headers }) => ({ id, topic, key, value, headers }));
    return { rows, more: picked === limit };
  }

  async backlog(em: EntityManager): Promise<{ count: number; oldestAgeMs: number }> {
    const [row] = await em.query(
      `SELECT count(*)::int AS count, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)) * 1000, 0)::float8 AS age FROM outbox`,
    );
    return { count: row.count, oldestAgeMs: row.age };
  }
}

/**
 * The INSERT that queues `record`, with its parameters numbered from `first`. It ends in a SELECT, so
 * a caller can add a WHERE and run it as a CTE of a statement of its own (see UnitOfWork).
 */
export function outboxInsert(record: OutgoingRecord & { eventId?: string }, first = 1): { sql: string; params: unknown[] } {
  const $ = (n: number) => `$${first + n}`;
  return {
    sql: `INSERT INTO outbox (event_id, topic, key, value, headers) SELECT ${$(0)}::text, ${$(1)}::text, ${$(2)}::text, ${$(3)}::bytea, ${$(4)}::jsonb`,
    params: [record.eventId ?? null, record.topic, record.key, record.value, JSON.stringify(record.headers)],
  };
}
