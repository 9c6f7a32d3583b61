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

  it('refuses work registered on a transaction that will not run it', () => {
    expect(() => beforeCommit(em(), 'feed', async () => undefined)).toThrow(/outside a transaction/);
  });
});
