import type { OrderStatus } from '../events';
import type { OrderCustomer, OrderEntity } from './order.entity';

/** An order as its events carry it. */
export type OrderState = {
  id: number;
  userId: number | null;
  product: string;
  amount: number;
  quantity: number;
  status: OrderStatus;
  version: number;
  createdAt: string;
  updatedAt: string;
};

/** An order as the API returns it: its state plus the customer read model (null until enriched). */
export type Order = OrderState & { customer: OrderCustomer | null };

export function toOrderState(row: OrderEntity): OrderState {
  return {
    id: row.id,
    userId: row.userId,
    product: row.product,
    amount: row.amount,
    quantity: row.quantity,
    status: row.status,
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function toOrder(row: OrderEntity): Order {
  return { ...toOrderState(row), customer: row.customer ?? null };
}

/** placed → paid → shipped, and cancelled from any state before shipped. */
const NEXT: Record<OrderStatus, readonly OrderStatus[]> = {
  placed: ['paid', 'cancelled'],
  paid: ['shipped', 'cancelled'],
  shipped: [],
  cancelled: [],
};

export function canMove(from: OrderStatus, to: OrderStatus): boolean {
  return NEXT[from].includes(to);
}
