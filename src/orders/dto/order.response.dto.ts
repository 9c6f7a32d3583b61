import { ApiProperty } from '@nestjs/swagger';
import { ORDER_STATUSES, type OrderStatus } from '../../events';
import type { Order } from '../order';

export class CustomerResponse {
  @ApiProperty({ example: 11 })
  id: number;

  @ApiProperty({ example: 'King' })
  name: string;

  @ApiProperty({ example: 'king@example.com', nullable: true, type: String })
  email: string | null;
}

/** OpenAPI description of an order; the runtime shape is `Order` (order.ts). */
export class OrderResponse implements Order {
  @ApiProperty({ example: 11 })
  id: number;

  @ApiProperty({ example: 11, nullable: true, type: Number, description: 'Null for outside orders that named no user' })
  userId: number | null;

  @ApiProperty({ example: 'sofa' })
  product: string;

  @ApiProperty({ example: 100000 })
  amount: number;

  @ApiProperty({ example: 1 })
  quantity: number;

  @ApiProperty({ enum: ORDER_STATUSES, example: 'placed' })
  status: OrderStatus;

  @ApiProperty({ example: 1 })
  version: number;

  @ApiProperty({ example: '2026-11-25T10:00:00.000Z' })
  createdAt: string;

  @ApiProperty({ example: '2026-11-25T10:00:00.000Z' })
  updatedAt: string;

  @ApiProperty({ type: CustomerResponse, nullable: true, description: 'Added by the enrichment consumer shortly after placement' })
  customer: CustomerResponse | null;
}

export class OrderPage {
  @ApiProperty({ type: [OrderResponse] })
  items: OrderResponse[];

  @ApiProperty({ example: 42, nullable: true, type: Number })
  nextCursor: number | null;
}
