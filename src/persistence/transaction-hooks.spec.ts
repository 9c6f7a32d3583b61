import type { EntityManager } from 'typeorm';
import { beforeCommit, openBeforeCommit, runBeforeCommit } from './transaction-hooks';

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

  it('refuses work registered on a transaction that will not run it', () => {
    expect(() => beforeCommit(em(), 'feed', async () => undefined)).toThrow(/outside a transaction/);
  });
});
