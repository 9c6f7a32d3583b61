import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DomainError } from '../src/common/errors';
import { readEventPayload, type EventType } from '../src/events';
import type { ConsumedEvent } from '../src/messaging/consumer/event-consumer.service';
import { OrdersService } from '../src/orders/orders.service';
import { IngestService } from '../src/persistence/ingest/ingest.service';
import { withBeforeCommit } from '../src/persistence/transaction-hooks';
import { ProjectionRebuilder, RebuildReport } from '../src/projections/projection-rebuilder.service';
import { UsersService } from '../src/users/users.service';
import { E2eApp, startE2eApp } from './support/e2e-app';
import { anOutsideId, unique } from './support/factories';
import { waitFor } from './support/wait-for';

/** A small seeded generator, so a failing run can be repeated with the same operations. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const differencesOf = (report: RebuildReport) => report.tables.map((t) => ({ table: t.table, onlyLive: t.onlyLive, onlyRebuilt: t.onlyRebuilt, changed: t.changed, samples: t.samples }));

describe('Rebuilding read models from the event log', () => {
  let e2e: E2eApp;
  let users: UsersService;
  let orders: OrdersService;
  let rebuilder: ProjectionRebuilder;
  const admin = { Authorization: `Bearer ${process.env.ADMIN_TOKEN}` };

  beforeAll(async () => {
    e2e = await startE2eApp();
    users = e2e.app.get(UsersService);
    orders = e2e.app.get(OrdersService);
    rebuilder = e2e.app.get(ProjectionRebuilder);
  });
  afterAll(() => e2e?.close());

  /** An outside producer's event, handed to the ingest (and enrichment) as the Kafka consumers would. */
  async function ingest(type: EventType, raw: Record<string, unknown>): Promise<void> {
    const read = readEventPayload(type, raw, 1);
    if (!read.ok) throw new Error(read.reason);
    const event = {
      type,
      id: `test:${randomUUID()}`,
      payload: read.payload,
      receivedPayload: raw,
      schemaVersion: 1,
      metadata: {},
      isOwn: false,
      topic: type,
      partition: 0,
      offset: '0',
      key: null,
      occurredAt: new Date(),
    } as ConsumedEvent<never>;
    const ingestService = e2e.app.get(IngestService);
    // As the consumer pipeline runs an effect: with its end-of-transaction work.
    await e2e.db.transaction((em) =>
      withBeforeCommit(em, () => (type === 'order_placed' ? ingestService.ingestOrder(em, event) : ingestService.ingestUser(em, event))),
    );
    if (type === 'order_placed') await e2e.db.transaction((em) => withBeforeCommit(em, () => orders.enrich(em, event)));
  }

  /** Every order_placed in the log has been through the enrichment consumer (or was set aside by it). */
  async function enrichmentCaughtUp(): Promise<boolean> {
    const [{ pending }] = await e2e.db.query(`
      SELECT count(*)::int AS pending FROM event_log e
       WHERE e.type = 'order_placed' AND e.origin = 'nestream'
         AND NOT EXISTS (SELECT 1 FROM inbox i WHERE i.consumer = 'orders.enrichment' AND i.message_id = e.event_id)
         AND NOT EXISTS (SELECT 1 FROM dead_letters d WHERE d.consumer = 'orders.enrichment' AND d.headers->>'ce_id' = e.event_id)`);
    return pending === 0;
  }

  it('rebuilds users and orders equal to the live tables after 3000 random operations', async () => {
    const next = random(20261125);
    const pick = <T>(list: T[]): T | undefined => list[Math.floor(next() * list.length)];
    const userIds: number[] = [];
    const orderIds: number[] = [];
    const email = () => (next() < 0.8 ? `${unique('u')}@example.com` : null);
    const operations: (() => Promise<unknown>)[] = [
      async () => userIds.push((await users.create({ name: unique('user'), email: email() })).id),
      async () => userIds.push((await users.create({ name: unique('user'), email: email() })).id),
      () => users.patch(pick(userIds) ?? 1, next() < 0.5 ? { name: unique('renamed') } : { email: email() }),
      () => users.replace(pick(userIds) ?? 1, { name: unique('replaced'), email: email() }),
      () => users.remove(pick(userIds) ?? 1),
      async () => orderIds.push((await orders.place({ userId: pick(userIds) ?? 1, product: unique('p'), amount: Math.round(next() * 1e6) / 100, quantity: 1 + Math.floor(next() * 3) })).id),
      async () => orderIds.push((await orders.place({ userId: pick(userIds) ?? 1, product: unique('p'), amount: 19.99 })).id),
      () => orders.changeStatus(pick(orderIds) ?? 1, pick(['paid', 'shipped', 'cancelled'] as const)!),
      () => orders.changeStatus(pick(orderIds) ?? 1, 'paid'),
      () => orders.cancel(pick(orderIds) ?? 1),
      // Outside producers: a partial update of a known user keeps its email; a new user; an order for a known user.
      () => ingest('user_updated', { id: pick(userIds) ?? anOutsideId(), name: unique('outside') }),
      () => ingest('user_created', { id: anOutsideId(), name: unique('outside') }),
      () => ingest('order_placed', { id: anOutsideId(), userId: pick(userIds) ?? null, product: 'lamp', amount: 25.5 }),
    ];
    let done = 0;
    const worker = async () => {
      while (done < 3000) {
        done += 1;
        try {
          await pick(operations)!();
        } catch (err) {
          // Deleted users, illegal moves and taken emails are part of the game; anything else is not.
          if (!(err instanceof DomainError)) throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    await waitFor('the enrichment consumer to catch up', enrichmentCaughtUp, { timeoutMs: 40_000, intervalMs: 200 });

    const usersCheck = await rebuilder.rebuild('users', { swap: false });
    const ordersCheck = await rebuilder.rebuild('orders', { swap: false });

    expect(differencesOf(usersCheck)).toEqual([{ table: 'users', onlyLive: 0, onlyRebuilt: 0, changed: 0, samples: [] }]);
    expect(differencesOf(ordersCheck)).toEqual([{ table: 'orders', onlyLive: 0, onlyRebuilt: 0, changed: 0, samples: [] }]);
    expect(usersCheck).toMatchObject({ identical: true, swapped: false });
    expect(usersCheck.tables[0].rows).toBeGreaterThan(300);
    expect(ordersCheck.tables[0].rows).toBeGreaterThan(300);
  }, 120_000);

  it('reports a live row that differs from the log, and a rebuild swaps in the table the log describes', async () => {
    const user = await users.create({ name: 'Genuine', email: `${unique('g')}@example.com` });
    const order = await orders.place({ userId: user.id, product: 'sofa', amount: 10 });
    await e2e.db.query(`UPDATE users SET name = 'Corrupted' WHERE id = $1`, [user.id]);
    await e2e.db.query(`DELETE FROM orders WHERE id = $1`, [order.id]);
    const [{ oid: before }] = await e2e.db.query(`SELECT 'users'::regclass::oid AS oid`);
    const indexesBefore = await e2e.db.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'users' ORDER BY 1`);
    const [{ last }] = await e2e.db.query(`SELECT last_value::int AS last FROM users_id_seq`);

    const check = await rebuilder.rebuild('users', { swap: false });
    const rebuilt = await rebuilder.rebuild('users');
    const ordersRebuilt = await rebuilder.rebuild('orders');

    expect(check.tables[0]).toMatchObject({ changed: 1, onlyLive: 0, onlyRebuilt: 0, samples: [{ key: String(user.id), kind: 'changed', live: { name: 'Corrupted' }, rebuilt: { name: 'Genuine' } }] });
    expect(rebuilt).toMatchObject({ swapped: true, identical: false });
    expect(ordersRebuilt.tables[0]).toMatchObject({ onlyRebuilt: 1, samples: [{ key: String(order.id), kind: 'only rebuilt' }] });
    expect(await users.get(user.id)).toMatchObject({ name: 'Genuine' });
    expect(await orders.get(order.id)).toMatchObject({ product: 'sofa', amount: 10 });
    const [{ oid: afterSwap }] = await e2e.db.query(`SELECT 'users'::regclass::oid AS oid`);
    expect(afterSwap).not.toBe(before);
    // The swapped-in table kept the names code relies on, and its id sequence carries on.
    expect(await e2e.db.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'users' ORDER BY 1`)).toEqual(indexesBefore);
    const duplicate = await e2e.http.post('/users').send({ name: 'Copy', email: (await users.get(user.id)).email!.toUpperCase() }).expect(409);
    expect(duplicate.body.errors).toEqual([{ field: 'email', messages: ['email is already in use'] }]);
    expect((await users.create({ name: 'After the swap' })).id).toBeGreaterThan(last);
    expect((await rebuilder.rebuild('users', { swap: false })).identical).toBe(true);
  }, 60_000);

  it('keeps serving reads and writes while it rebuilds, and includes the writes made meanwhile', async () => {
    const user = await users.create({ name: 'Before', email: null });
    let during: { read: number; write: number } | undefined;
    // Clients that keep reading and writing through the whole rebuild, swap included.
    let rebuilding = true;
    const statuses: number[] = [];
    let writes = 0;
    const client = async () => {
      while (rebuilding) {
        statuses.push((await e2e.http.get(`/users/${user.id}`)).status);
        statuses.push((await e2e.http.patch(`/users/${user.id}`).send({ email: `w${(writes += 1)}@example.com` })).status);
      }
    };
    const clients = [client(), client()];

    const report = await rebuilder.rebuild('users', {
      beforeSwap: async () => {
        const read = await e2e.http.get(`/users/${user.id}`);
        const write = await e2e.http.patch(`/users/${user.id}`).send({ name: 'During' });
        during = { read: read.status, write: write.status };
      },
    });
    rebuilding = false;
    await Promise.all(clients);

    expect(during).toEqual({ read: 200, write: 200 });
    expect(statuses.length).toBeGreaterThan(4);
    expect(new Set(statuses)).toEqual(new Set([200]));
    expect(report).toMatchObject({ swapped: true, identical: true });
    const now = await users.get(user.id);
    expect(now).toMatchObject({ name: 'During', version: 2 + statuses.length / 2 });
    expect((await rebuilder.rebuild('users', { swap: false })).identical).toBe(true);
  });

  it('starts over when its swap deadlocks with a writer that took the log before the live table', async () => {
    // As the ingest consumer's batch does when it stores an outside user, then an outside order.
    const writer = e2e.db.createQueryRunner();
    await writer.connect();
    let attempts = 0;
    let logLocked = false;
    try {
      const rebuilt = rebuilder.rebuild('orders', {
        beforeSwap: async () => {
          attempts += 1;
          if (attempts > 1) return;
          await writer.startTransaction();
          await writer.query('LOCK TABLE event_log IN ROW EXCLUSIVE MODE');
          logLocked = true;
        },
      });
      // The swap holds orders and waits for the log; the writer then asks for orders. Postgres breaks
      // the deadlock by aborting the one that waited first, the rebuild, and the writer gets orders.
      await waitFor('the swap to wait for the writer', async () => {
        if (!logLocked) return false;
        const [{ n }] = await e2e.db.query(`SELECT count(*)::int AS n FROM pg_locks WHERE relation = 'event_log'::regclass AND mode = 'ShareLock' AND NOT granted`);
        return n > 0;
      });
      await writer.query('LOCK TABLE orders IN ROW EXCLUSIVE MODE');
      await writer.rollbackTransaction();

      expect(await rebuilt).toMatchObject({ projection: 'orders', swapped: true });
      expect(attempts).toBe(2);
    } finally {
      if (writer.isTransactionActive) await writer.rollbackTransaction();
      await writer.release();
    }
  });

  it('rebuilds over HTTP behind the admin token', async () => {
    await e2e.http.post('/admin/projections/users/rebuild').expect(401);
    await e2e.http.post('/admin/projections/users/rebuild').set({ Authorization: 'Bearer wrong-token-0123456789' }).expect(403);
    await e2e.http.post('/admin/projections/nothing/rebuild').set(admin).expect(404);
    const bad = await e2e.http.post('/admin/projections/Users;DROP/rebuild').set(admin).expect(400);
    expect(bad.body.errors).toEqual([{ field: 'name', messages: ['name must be a projection name such as users or orders'] }]);

    const list = (await e2e.http.get('/admin/projections').set(admin).expect(200)).body;
    const report = (await e2e.http.post('/admin/projections/orders/rebuild').set(admin).expect(200)).body;
    const check = (await e2e.http.post('/admin/projections/users/check').set(admin).expect(200)).body;

    expect(list.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['users', 'orders']));
    expect(report).toMatchObject({ projection: 'orders', swapped: true, tables: [{ table: 'orders' }] });
    expect(check).toMatchObject({ projection: 'users', swapped: false, identical: true });
  });

  it('rebuilds from the command line: npm run replay -- users --check', () => {
    const root = join(__dirname, '..');
    const run = spawnSync(join(root, 'node_modules/.bin/ts-node'), ['--transpile-only', 'src/cli/replay.ts', 'users', '--check'], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'warn' },
      encoding: 'utf8',
      timeout: 60_000,
    });

    expect(run.stderr).not.toMatch(/replay failed/);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ projection: 'users', swapped: false, identical: true });
  }, 70_000);
});
