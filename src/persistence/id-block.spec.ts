import type { DataSource } from 'typeorm';
import { IdBlock } from './id-block';

function sequence() {
  let last = 100;
  const db = {
    query: jest.fn(async (_sql: string, [, size]: [string, number]) => Array.from({ length: size }, () => ({ id: String((last += 1)) }))),
  };
  return { db: db as unknown as DataSource, calls: () => db.query.mock.calls.length };
}

describe('IdBlock', () => {
  it('hands out a reserved block in order and reserves again only when it is used up', async () => {
    const { db, calls } = sequence();
    const block = new IdBlock('orders', 4);
    const ids = [];
    for (let i = 0; i < 3; i += 1) ids.push(await block.next(db));
    expect(ids).toEqual([101, 102, 103]);
    // The next block was reserved when half of this one was used, before anyone had to wait for it.
    expect(calls()).toBe(2);
    ids.push(await block.next(db), await block.next(db));
    expect(ids).toEqual([101, 102, 103, 104, 105]);
    expect(calls()).toBe(2);
  });

  it('sizes a reservation by the writes waiting, so a crowd waits for one more round trip, not one per block', async () => {
    const { db, calls } = sequence();
    const block = new IdBlock('orders', 4, 100);
    const ids = await Promise.all(Array.from({ length: 30 }, () => block.next(db)));
    expect(new Set(ids).size).toBe(30);
    expect(calls()).toBeLessThanOrEqual(2);
  });

  it('shares one reservation between callers that find the block empty together', async () => {
    const { db, calls } = sequence();
    const block = new IdBlock('orders', 5);
    const ids = await Promise.all([1, 2, 3].map(() => block.next(db)));
    expect(new Set(ids).size).toBe(3);
    expect(calls()).toBe(1);
  });

  it('takes a fresh block after discard: the ids left may be taken', async () => {
    const { db } = sequence();
    const block = new IdBlock('orders', 5);
    expect(await block.next(db)).toBe(101);
    block.discard();
    expect(await block.next(db)).toBe(106);
  });
});
