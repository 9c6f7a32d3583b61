import type { LoggedEvent } from '../persistence/event-log/event-log.reader';
import { orderFold, OrderHistoryState } from './order.fold';

let position = 0;
function event(type: string, payload: Record<string, unknown>, overrides: Partial<LoggedEvent> = {}): LoggedEvent {
  position += 1;
  return {
    position,
    eventId: `e${position}`,
    type,
    entityType: 'order',
    entityId: '11',
    version: (payload.version as number) ?? null,
    schemaVersion: 1,
    payload,
    metadata: {},
    origin: 'nestream',
    occurredAt: new Date('2026-11-25T10:00:00.000Z'),
    recordedAt: new Date('2026-11-25T10:00:00.500Z'),
    ...overrides,
  };
}

const order = (overrides: Record<string, unknown> = {}) => ({
  id: 11,
  userId: 7,
  product: 'sofa',
  amount: 100000,
  quantity: 2,
  status: 'placed',
  version: 1,
  createdAt: '2026-11-25T10:00:00.000Z',
  updatedAt: '2026-11-25T10:00:00.000Z',
  ...overrides,
});

const fold = (events: LoggedEvent[]) => events.reduce<OrderHistoryState | null>((s, e) => orderFold.apply(s, e), null);

describe('orderFold', () => {
  it("takes Nestream's events as the whole order and remembers where it was placed for whom", () => {
    const placed = event('order_placed', order());
    const state = fold([placed, event('order_updated', order({ status: 'paid', version: 2 }))]);

    expect(state).toEqual({ order: order({ status: 'paid', version: 2 }), placements: [{ userId: 7, position: placed.position }] });
  });

  it("places the origin document's order with the ingest's defaults: no user, quantity 1, placed", () => {
    const state = fold([event('order_placed', { id: 11, product: 'sofa', amount: 100000 }, { origin: 'ingested', version: 1 })]);

    expect(state).toEqual({
      order: {
        id: 11,
        userId: null,
        product: 'sofa',
        amount: 100000,
        quantity: 1,
        status: 'placed',
        version: 1,
        createdAt: '2026-11-25T10:00:00.500Z',
        updatedAt: '2026-11-25T10:00:00.500Z',
      },
      placements: [],
    });
  });

  it('upserts an outside re-placement as the ingest does: keeps the user, resets quantity and status', () => {
    const state = fold([
      event('order_placed', order()),
      event('order_updated', order({ status: 'paid', version: 2 })),
      event('order_placed', { id: 11, product: 'lamp', amount: 5 }, { origin: 'ingested', version: 3 }),
    ]);

    expect(state!.order).toEqual(order({ product: 'lamp', amount: 5, quantity: 1, status: 'placed', version: 3, updatedAt: '2026-11-25T10:00:00.500Z' }));
    expect(state!.placements).toHaveLength(1);
  });
});
