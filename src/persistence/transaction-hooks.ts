import type { EntityManager } from 'typeorm';

type Hook = () => Promise<void>;

// Each transaction has its own EntityManager, so its hooks go with it.
const hooks = new WeakMap<EntityManager, Map<string, Hook>>();

/**
 * Work that must happen in a transaction but is best done once, at its end: a consumer applying a
 * batch of records registers it per record and it runs once, just before the commit, so a lock it
 * takes is held for the last statements only, not for the whole batch. The transaction's owner (the
 * consumer pipeline) opens the registry and runs it; registering outside one fails loudly.
 */
export function openBeforeCommit(em: EntityManager): void {
  hooks.set(em, new Map());
}

/** Registers `hook` under `key`; registering the same key again replaces it (it should read the latest state). */
export function beforeCommit(em: EntityManager, key: string, hook: Hook): void {
  const registry = hooks.get(em);
  if (!registry) throw new Error(`beforeCommit(${key}) outside a transaction that runs before-commit work`);
  registry.set(key, hook);
}

/**
 * Runs the registered work in registration order, then whatever that work registered (a batch's flush
 * that moves an id sequence), until none is left; then closes the registry.
 */
export async function runBeforeCommit(em: EntityManager): Promise<void> {
  const registry = hooks.get(em);
  if (!registry) return;
  try {
    while (registry.size > 0) {
      const due = [...registry.values()];
      registry.clear();
      for (const hook of due) await hook();
    }
  } finally {
    hooks.delete(em);
  }
}

/** Runs `work` in `em`'s transaction with before-commit work allowed, then runs that work. */
export async function withBeforeCommit<T>(em: EntityManager, work: () => Promise<T>): Promise<T> {
  openBeforeCommit(em);
  const result = await work();
  await runBeforeCommit(em);
  return result;
}
