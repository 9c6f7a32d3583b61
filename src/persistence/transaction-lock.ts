import type { EntityManager } from 'typeorm';

// Each transaction has its own EntityManager, so this forgets a transaction's locks with it.
const taken = new WeakMap<EntityManager, Set<string>>();

/**
 * Runs a lock statement the first time a transaction asks for it; locks are held until commit or
 * rollback. A consumer applies a whole batch of records in one transaction, so asking again for every
 * record would only cost round trips.
 */
export async function oncePerTransaction(em: EntityManager, key: string, lock: () => Promise<unknown>): Promise<void> {
  let keys = taken.get(em);
  if (!keys) taken.set(em, (keys = new Set()));
  if (keys.has(key)) return;
  await lock();
  keys.add(key);
}

/** A transaction-scoped advisory lock, requested once per transaction. */
export function lockForTransaction(em: EntityManager, key: number): Promise<void> {
  return oncePerTransaction(em, `advisory:${key}`, () => em.query('SELECT pg_advisory_xact_lock($1)', [key]));
}
