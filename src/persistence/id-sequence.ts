import type { EntityManager } from 'typeorm';
import { collectBeforeCommit } from './transaction-hooks';
import { lockForTransaction } from './transaction-lock';

/**
 * Serialises moving a table's id sequence (setval is not transactional: two movers could set it
 * backwards). The keys are hashtext('users.id') and hashtext('orders.id'), as earlier versions took
 * them, so old and new instances still exclude each other during a rolling deploy.
 */
const SEQUENCE_LOCKS = { users: -2_107_712_149, orders: -1_279_370_951 } as const;

/**
 * The largest id an outside producer may bring. Its events move the id sequence past their ids, and
 * Nestream's next ids must still be exact JSON numbers (at most 2^53 - 1, the schemas' maximum): past
 * that every create would fail, for good. 2^52 leaves Nestream as many ids again after the highest.
 */
export const MAX_OUTSIDE_ID = 2 ** 52;

/**
 * Ids are shared with outside producers: once this transaction commits, the table's id sequence must be
 * past every outside id it stored, so Nestream's next ids stay free. Done once, at the end of the
 * transaction, for the highest id of the batch, so the lock is held for one statement, not for the batch.
 */
export function moveIdSequencePast(em: EntityManager, table: keyof typeof SEQUENCE_LOCKS, id: number): void {
  collectBeforeCommit(em, `${table}.id-sequence`, id, async (ids) => {
    await lockForTransaction(em, SEQUENCE_LOCKS[table]);
    await em.query(
      `SELECT setval(seq::regclass, $2::bigint) FROM pg_get_serial_sequence($1, 'id') AS seq
        WHERE $2::bigint > COALESCE(pg_sequence_last_value(seq::regclass), 0)`,
      [table, ids.reduce((a, b) => Math.max(a, b))],
    );
  });
}
