import type { EntityManager } from 'typeorm';
import type { OrderEventPayload } from '../../events';
import { ConsumedEvent, UnprocessableEventError } from '../../messaging/consumer/event-consumer.service';
import type { OrdersService } from '../../orders/orders.service';
import type { UsersService } from '../../users/users.service';
import type { EventLogEntry, EventLogService } from '../event-log/event-log.service';
import { MAX_OUTSIDE_ID } from '../id-sequence';
import { openBeforeCommit, runBeforeCommit } from '../transaction-hooks';
import { IngestService } from './ingest.service';

function order(id: number, offset: number, { own = false, version }: { own?: boolean; version?: number } = {}): ConsumedEvent<OrderEventPayload> {
  const payload = { id, product: 'p', amount: 1 } as OrderEventPayload;
  return {
    type: 'order_placed',
    id: `e-${offset}`,
    payload,
    receivedPayload: { ...payload },
    schemaVersion: 1,
    metadata: { entityVersion: version },
    isOwn: own,
    topic: 'order_placed',
    partition: 0,
    offset: String(offset),
    key: null,
    occurredAt: new Date(0),
  } as ConsumedEvent<OrderEventPayload>;
}

describe('IngestService (set-based)', () => {
  const applied: number[][] = [];
  const logged: string[][] = [];
  // Stale when the event carries version 0; otherwise stored at version 1.
  const orders = {
    applyExternal: jest.fn(async (_em: EntityManager, inputs: { payload: OrderEventPayload; version?: number }[]) => {
      applied.push(inputs.map((i) => i.payload.id));
      return inputs.map((i) => (i.version === 0 ? null : { id: i.payload.id, version: 1 }));
    }),
  };
  const users = { applyExternal: jest.fn(async () => []) };
  const eventLog = {
    appendMany: jest.fn(async (_em: EntityManager, entries: EventLogEntry[]) => {
      logged.push(entries.map((e) => e.eventId));
      return new Set(entries.map((e) => e.eventId));
    }),
  };
  const ingest = new IngestService(users as unknown as UsersService, orders as unknown as OrdersService, eventLog as unknown as EventLogService);

  beforeEach(() => {
    applied.length = 0;
    logged.length = 0;
    jest.clearAllMocks();
  });

  async function inOneTransaction(events: ConsumedEvent<OrderEventPayload>[]): Promise<void> {
    const em = {} as EntityManager;
    openBeforeCommit(em);
    for (const e of events) await ingest.ingestOrder(em, e);
    // Nothing is written until the transaction is about to commit.
    expect(orders.applyExternal).not.toHaveBeenCalled();
    await runBeforeCommit(em);
  }

  it('stores the transaction\'s events together, in rounds where each order appears once, keeping their order', async () => {
    await inOneTransaction([order(1, 10), order(2, 11), order(1, 12), order(3, 13), order(1, 14)]);
    expect(applied).toEqual([[1, 2, 3], [1], [1]]);
    expect(logged).toEqual([['e-10', 'e-11', 'e-13'], ['e-12'], ['e-14']]);
  });

  it('logs only the events that were applied', async () => {
    await inOneTransaction([order(2, 11, { version: 0 }), order(3, 12)]);
    expect(applied).toEqual([[2, 3]]);
    expect(logged).toEqual([['e-12']]);
  });

  it('refuses an outside id past MAX_OUTSIDE_ID as unprocessable (dead-lettered at once), storing nothing of it', async () => {
    const em = {} as EntityManager;
    openBeforeCommit(em);
    await ingest.ingestOrder(em, order(MAX_OUTSIDE_ID, 10));
    await expect(ingest.ingestOrder(em, order(Number.MAX_SAFE_INTEGER, 11))).rejects.toThrow(UnprocessableEventError);
    await runBeforeCommit(em);
    expect(applied).toEqual([[MAX_OUTSIDE_ID]]);
  });

  it('leaves Nestream\'s own events alone: they were stored with the HTTP write', () => {
    expect(ingest.handles(order(1, 10, { own: true }))).toBe(false);
    expect(ingest.handles(order(1, 10))).toBe(true);
  });
});
