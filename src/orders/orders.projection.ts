import type { EntityManager } from 'typeorm';
import type { LoggedEvent } from '../persistence/event-log/event-log.reader';
import type { Projection, ProjectionBuilder } from '../projections/projection';
import { ColumnSpec, upsertRows } from '../projections/rows-writer';
import { customerOf, userFold, UserHistoryState } from '../users/user.fold';
import type { OrderCustomer } from './order.entity';
import { orderFold, OrderHistoryState } from './order.fold';

const COLUMNS: ColumnSpec[] = [
  { name: 'id', type: 'bigint' },
  { name: 'user_id', type: 'bigint' },
  { name: 'product', type: 'text' },
  { name: 'amount', type: 'numeric' },
  { name: 'quantity', type: 'integer' },
  { name: 'status', type: 'text' },
  { name: 'customer', type: 'jsonb' },
  { name: 'version', type: 'integer' },
  { name: 'created_at', type: 'timestamptz' },
  { name: 'updated_at', type: 'timestamptz' },
];

/**
 * The order read model: the `orders` table, folded from the order events, with the `customer` the
 * enrichment copies: the user named by an order_placed, as that user was at that point of the log.
 */
export const ordersProjection: Projection = {
  name: 'orders',
  description: 'The order read model: the orders table with its customer data, from the order and user events',
  tables: [
    {
      name: 'orders',
      key: ['id'],
      columns: ['user_id', 'product', 'amount', 'quantity', 'status', 'customer', 'version'],
      timestamps: ['created_at', 'updated_at'],
    },
  ],
  entityTypes: ['order', 'user'],
  createBuilder: () => new OrdersBuilder(),
};

class OrdersBuilder implements ProjectionBuilder {
  private readonly orders = new Map<number, OrderHistoryState>();
  private readonly customers = new Map<number, OrderCustomer>();
  // Only to know each customer as of an order's placement; users reach the log before their orders do.
  private readonly users = new Map<number, UserHistoryState>();
  private readonly dirty = new Set<number>();

  apply(event: LoggedEvent): void {
    const id = Number(event.entityId);
    if (event.entityType === 'user') {
      const user = userFold.apply(this.users.get(id) ?? null, event);
      if (user) this.users.set(id, user);
      return;
    }
    const next = orderFold.apply(this.orders.get(id) ?? null, event);
    if (!next) return;
    this.orders.set(id, next);
    this.dirty.add(id);
    const userId = event.type === 'order_placed' ? (event.payload.userId as number | null | undefined) : undefined;
    // As the enrichment does: a placement naming a user who does not exist (yet) leaves the customer as it was.
    const customer = userId == null ? null : customerOf(this.users.get(userId) ?? null);
    if (customer) this.customers.set(id, customer);
  }

  async flush(em: EntityManager, tableOf: (live: string) => string): Promise<void> {
    const rows = [...this.dirty].map((id) => {
      const { order } = this.orders.get(id)!;
      return {
        id: order.id,
        user_id: order.userId,
        product: order.product,
        amount: order.amount,
        quantity: order.quantity,
        status: order.status,
        customer: this.customers.get(id) ?? null,
        version: order.version,
        created_at: order.createdAt,
        updated_at: order.updatedAt,
      };
    });
    await upsertRows(em, tableOf('orders'), ['id'], COLUMNS, rows);
    this.dirty.clear();
  }
}
