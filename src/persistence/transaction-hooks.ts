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

// What collectBeforeCommit has gathered per transaction and key, until its flush runs.
const collected = new WeakMap<EntityManager, Map<string, unknown[]>>();

/**
 * Set-based effects: a consumer's handler adds one item per record, and `flush` gets them all, once,
 * just before the commit (one multi-row statement instead of one per record). Items added after the
 * flush ran (by other before-commit work) are flushed again in a later pass.
 */
export function collectBeforeCommit<T>(em: EntityManager, key: string, item: T, flush: (items: T[]) => Promise<void>): void {
  let byKey = collected.get(em);
  if (!byKey) collected.set(em, (byKey = new Map()));
  let items = byKey.get(key) as T[] | undefined;
  if (!items) {
    const gathered: T[] = [];
    const owner = byKey;
    beforeCommit(em, key, async () => {
      owner.delete(key);
      await flush(gathered);
    });
    byKey.set(key, (items = gathered));
  }
  items.push(item);
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
