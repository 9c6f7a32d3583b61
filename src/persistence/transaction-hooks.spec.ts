import type { EntityManager } from 'typeorm';
import { beforeCommit, collectBeforeCommit, openBeforeCommit, runBeforeCommit } from './transaction-hooks';

describe('before-commit work', () => {
  const em = () => ({}) as EntityManager;

  it('runs each key once, with its latest registration, in the order keys were first registered', async () => {
    const tx = em();
    const ran: string[] = [];
    openBeforeCommit(tx);
    beforeCommit(tx, 'sequence', async () => void ran.push('sequence 1'));
    beforeCommit(tx, 'feed', async () => void ran.push('feed'));
    beforeCommit(tx, 'sequence', async () => void ran.push('sequence 2'));

    await runBeforeCommit(tx);
    await runBeforeCommit(tx);

    expect(ran).toEqual(['sequence 2', 'feed']);
  });

  it('runs work registered by running work, after it, and closes the registry when none is left', async () => {
    const tx = em();
    const ran: string[] = [];
    openBeforeCommit(tx);
    beforeCommit(tx, 'flush', async () => {
      ran.push('flush');
      beforeCommit(tx, 'sequence', async () => void ran.push('sequence'));
    });
    beforeCommit(tx, 'feed', async () => void ran.push('feed'));

    await runBeforeCommit(tx);

    expect(ran).toEqual(['flush', 'feed', 'sequence']);
    expect(() => beforeCommit(tx, 'late', async () => undefined)).toThrow(/outside a transaction/);
  });

  it('hands the items collected under a key to its flush once, and flushes items added by other work later', async () => {
    const tx = em();
    const flushed: string[][] = [];
    const flush = async (items: string[]) => void flushed.push(items);
    openBeforeCommit(tx);
    collectBeforeCommit(tx, 'feed', 'a', flush);
    collectBeforeCommit(tx, 'sequence', 'x', async (items) => {
      flushed.push(items);
      collectBeforeCommit(tx, 'feed', 'c', flush);
    });
    collectBeforeCommit(tx, 'feed', 'b', flush);

    await runBeforeCommit(tx);

    expect(flushed).toEqual([['a', 'b'], ['x'], ['c']]);
  });

  it('refuses work registered on a transaction that will not run it', () => {
    expect(() => beforeCommit(em(), 'feed', async () => undefined)).toThrow(/outside a transaction/);
  });
});
