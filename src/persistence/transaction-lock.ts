import type { EntityManager } from 'typeorm';

// Each transaction has its own EntityManager, so this forgets a transaction's locks with it.
const held = new WeakMap<EntityManager, Set<number>>();

/**
 * Takes a transaction-scoped advisory lock, held until commit or rollback. A consumer applies a whole
 * batch of records in one transaction, so asking again for every record would only cost round trips:
 * the lock is requested once per transaction.
 */
export async function lockForTransaction(em: EntityManager, key: number): Promise<void> {
  let keys = held.get(em);
  if (!keys) held.set(em, (keys = new Set()));
  if (keys.has(key)) return;
  await em.query('SELECT pg_advisory_xact_lock($1)', [key]);
  keys.add(key);
}
