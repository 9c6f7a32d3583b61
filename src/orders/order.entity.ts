import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { numericColumn } from '../common/db-errors';
import type { OrderStatus } from '../events';

/** Customer reference data copied onto the order by the enrichment consumer. */
export interface OrderCustomer {
  id: number;
  name: string;
  email: string | null;
}

@Entity('orders')
export class OrderEntity {
  @PrimaryColumn({ type: 'bigint', generated: 'identity', generatedIdentity: 'BY DEFAULT', transformer: numericColumn })
  id: number;

  @Column('bigint', { name: 'user_id', nullable: true, transformer: numericColumn })
  userId: number | null;

  @Column('text')
  product: string;

  @Column('numeric', { precision: 15, scale: 2, transformer: numericColumn })
  amount: number;

  @Column('integer')
  quantity: number;

  @Column('text')
  status: OrderStatus;

  @Column('jsonb', { nullable: true })
  customer: OrderCustomer | null;

  @Column('integer')
  version: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
