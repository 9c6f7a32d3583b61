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
   * The oldest waiting rows, in id order. Reading "everything still here" rather than "ids above the
   * last one seen" is what keeps a row whose id was allocated early but committed late from being skipped.
   */
  async oldest(em: EntityManager, limit: number): Promise<OutboxRow[]> {
    return em.query(`SELECT id, topic, key, value, headers FROM outbox ORDER BY id LIMIT $1`, [limit]);
  }

  async remove(em: EntityManager, ids: string[]): Promise<void> {
    await em.query(`DELETE FROM outbox WHERE id = ANY($1::bigint[])`, [ids]);
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
