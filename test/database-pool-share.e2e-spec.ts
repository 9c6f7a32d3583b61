import type { Request, Response } from 'express';
import { DataSource, QueryRunner } from 'typeorm';
import { databaseOptions } from '../src/persistence/database-options';
import { requestShareMiddleware } from '../src/persistence/request-share';
import { waitFor } from './support/wait-for';

/** Runs `fn` as the request middleware runs a request's handlers. */
function asHttpRequest<T>(fn: () => Promise<T>): Promise<T> {
  let result!: Promise<T>;
  requestShareMiddleware({} as Request, {} as Response, () => {
    result = fn();
  });
  return result;
}

/** A promise's state, read without waiting for it. */
function watch<T>(promise: Promise<T>): { settled: () => boolean; promise: Promise<T> } {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  return { settled: () => settled, promise };
}

/**
 * The pool is shared by HTTP requests and the background work (relay, consumers, dispatcher); HTTP
 * may hold only pool − DATABASE_POOL_RESERVED connections, so a flood of requests never makes the
 * background work wait. Against the real PostgreSQL, with a pool of 3 of which 2 are reserved.
 */
describe('the database pool kept for background work', () => {
  let dataSource: DataSource;
  const held: QueryRunner[] = [];

  beforeAll(async () => {
    dataSource = await new DataSource(
      databaseOptions({ url: process.env.DATABASE_URL!, poolSize: 3, poolReserved: 2, migrateOnStart: false }),
    ).initialize();
  });
  afterEach(async () => {
    await Promise.all(held.splice(0).map((qr) => qr.release()));
  });
  afterAll(async () => {
    await dataSource?.destroy();
  });

  async function hold(): Promise<QueryRunner> {
    const qr = dataSource.createQueryRunner();
    await qr.connect();
    held.push(qr);
    return qr;
  }

  it('lets HTTP requests hold only their share; the next request waits while background work goes on', async () => {
    const first = await asHttpRequest(hold);
    const second = watch(asHttpRequest(hold));
    // One turn of the event loop: its connect has reached the pool (or the gate in front of it).
    await new Promise((resolve) => setImmediate(resolve));

    // Both reserved connections serve background work at once. Had the second request taken one, the
    // pool (3) would be full and the second background connection would never come.
    const background = watch(Promise.all([hold(), hold()]));
    await waitFor('two background connections while a request holds its share', () => background.settled(), { timeoutMs: 5_000 });
    await expect(background.promise).resolves.toHaveLength(2);
    expect(second.settled()).toBe(false);

    // The request's place passes on when the first request lets its connection go.
    await first.release();
    await expect(second.promise).resolves.toBeDefined();
  });

  it('hands the share back once per connection, also for queries that go through the pool on their own', async () => {
    for (let i = 0; i < 5; i += 1) await asHttpRequest(() => dataSource.query('SELECT 1'));
    const qr = await asHttpRequest(hold);
    await qr.release();
    await qr.release().catch(() => undefined);
    // Still exactly one place: one request gets it, the next waits for it.
    const a = await asHttpRequest(hold);
    const b = watch(asHttpRequest(hold));
    await new Promise((resolve) => setImmediate(resolve));
    await hold();
    expect(b.settled()).toBe(false);
    await a.release();
    await waitFor('the waiting request to get the place', () => b.settled());
  });
});
