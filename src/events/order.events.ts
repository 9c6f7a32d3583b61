import { schemaOf } from './schemas';
import type { OrderCancelledV1, OrderPlacedV1, OrderUpdatedV1 } from './schemas/index.generated';

// Shapes are defined by schemas/order_*/v<N>.json; these names follow the current versions.
export type OrderPlacedPayload = OrderPlacedV1;
export type OrderUpdatedPayload = OrderUpdatedV1;
export type OrderCancelledPayload = OrderCancelledV1;
export type OrderEventPayload = OrderPlacedPayload | OrderUpdatedPayload | OrderCancelledPayload;

export type OrderStatus = NonNullable<OrderPlacedPayload['status']>;

const orderProperties = schemaOf('order_placed')!.properties!;

/** The statuses an order can have, as the order schema lists them. */
export const ORDER_STATUSES = orderProperties.status.enum as readonly OrderStatus[];

/** Largest amount NUMERIC(15,2) holds (the schema's maximum); below 2^53, so a JSON number carries it exactly. */
export const MAX_AMOUNT = orderProperties.amount.maximum as number;
