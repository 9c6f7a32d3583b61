import { QueryFailedError } from 'typeorm';
import { retryOnDeadlock } from './db-errors';

const failure = (code: string) => new QueryFailedError('DELETE …', [], Object.assign(new Error(code), { code }));

describe('retryOnDeadlock', () => {
  it('runs the work again when Postgres aborted it to break a deadlock', async () => {
    const work = jest.fn().mockRejectedValueOnce(failure('40P01')).mockResolvedValueOnce('done');
    await expect(retryOnDeadlock(work)).resolves.toBe('done');
    expect(work).toHaveBeenCalledTimes(2);
  });

  it('gives up after the last attempt, with the deadlock error', async () => {
    const work = jest.fn().mockRejectedValue(failure('40P01'));
    await expect(retryOnDeadlock(work, 3)).rejects.toThrow('40P01');
    expect(work).toHaveBeenCalledTimes(3);
  });

  it('does not retry any other error', async () => {
    const work = jest.fn().mockRejectedValue(failure('23505'));
    await expect(retryOnDeadlock(work)).rejects.toThrow('23505');
    expect(work).toHaveBeenCalledTimes(1);
  });
});
