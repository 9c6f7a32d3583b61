import type { EntityManager } from 'typeorm';
import type { DeadLetter } from './dead-letter.service';

/** Reasons are cut to this length: an error message can carry a whole stack or payload. */
export const MAX_REASON_LENGTH = 2000;

/**
 * The `dead_letters` row of a message set aside, once per (topic, partition, offset, consumer): a
 * redelivered message finds its row and adds none. Answers whether this call wrote it. Shared by the
 * consumer pipeline (DeadLetterService) and the outbox relay, which sets aside what the broker refuses.
 */
export async function insertDeadLetter(em: EntityManager, d: Omit<DeadLetter, 'timestamp'>): Promise<boolean> {
  const rows: unknown[] = await em.query(
    `INSERT INTO dead_letters (consumer, topic, "partition", "offset", key, value, headers, reason, attempts)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (topic, "partition", "offset", consumer) DO NOTHING
     RETURNING id`,
    [d.consumer, d.topic, d.partition, d.offset, d.key, d.value, JSON.stringify(d.headers), d.reason.slice(0, MAX_REASON_LENGTH), d.attempts],
  );
  return rows.length > 0;
}
