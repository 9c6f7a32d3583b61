import type { LoggedEvent } from '../persistence/event-log/event-log.reader';
import type { Fold } from '../persistence/event-log/fold.service';
import type { OrderState } from './order';

/** Where an order_placed named a user: the enrichment copies that user's data as of that position. */
export interface Placement {
  userId: number;
  position: number;
}

export interface OrderHistoryState {
  order: OrderState;
  placements: Placement[];
}

const ORDER_EVENTS = new Set(['order_placed', 'order_updated', 'order_cancelled']);

/**
 * How an order follows from its events, mirroring the writes that produced them: Nestream's events
 * carry the whole order; an outside order_placed is applied as `OrdersService.applyExternal` upserts it.
 * The customer is not part of the events: it is derived from the placements (see OrdersService).
 */
export const orderFold: Fold<OrderHistoryState> = {
  entityType: 'order',
  version: 1,
  apply(state, event) {
    if (!ORDER_EVENTS.has(event.type)) return state;
    const p = event.payload as Partial<OrderState>;
    const order = event.origin === 'nestream' ? fromPayload(event) : upserted(state?.order ?? null, event);
    const placements = state?.placements ?? [];
    const placed = event.type === 'order_placed' && p.userId != null;
    return { order, placements: placed ? [...placements, { userId: p.userId!, position: event.position }] : placements };
  },
};

function fromPayload(event: LoggedEvent): OrderState {
  const p = event.payload as Partial<OrderState>;
  const stamp = event.occurredAt.toISOString();
  return {
    id: Number(event.entityId),
    userId: p.userId ?? null,
    product: p.product ?? '',
    amount: p.amount ?? 0,
    quantity: p.quantity ?? 1,
    status: p.status ?? 'placed',
    version: event.version ?? p.version ?? 1,
    createdAt: p.createdAt ?? stamp,
    updatedAt: p.updatedAt ?? stamp,
  };
}

/** An outside order_placed: an upsert by id that keeps the known user when none is given. */
function upserted(previous: OrderState | null, event: LoggedEvent): OrderState {
  const p = event.payload as Partial<OrderState>;
  const stamp = event.recordedAt.toISOString();
  return {
    id: Number(event.entityId),
    userId: p.userId ?? previous?.userId ?? null,
    product: p.product ?? '',
    amount: p.amount ?? 0,
    quantity: p.quantity ?? 1,
    status: p.status ?? 'placed',
    version: event.version ?? (previous ? previous.version + 1 : 1),
    createdAt: previous?.createdAt ?? stamp,
    updatedAt: stamp,
  };
}
