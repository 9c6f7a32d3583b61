import { Type } from 'class-transformer';
import { IsIn, IsInt, IsNotEmpty, IsNumber, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { MAX_AMOUNT, ORDER_STATUSES, type OrderStatus } from '../../events';
import { PageQuery } from '../../common/http/page';

export class CreateOrderDto {
  @IsInt() @Min(1) @Max(Number.MAX_SAFE_INTEGER)
  userId: number;

  @IsString() @IsNotEmpty() @MaxLength(200)
  product: string;

  /** Exact to the cent: a JSON number with at most two decimals, stored as NUMERIC(15,2). */
  @IsNumber({ allowNaN: false, allowInfinity: false, maxDecimalPlaces: 2 }) @Min(0) @Max(MAX_AMOUNT)
  amount: number;

  @IsOptional() @IsInt() @Min(1) @Max(1_000_000)
  quantity?: number;
}

const TARGET_STATUSES = ORDER_STATUSES.filter((s) => s !== 'placed');

/** `PATCH /orders/:id`: a status change along placed → paid → shipped, or to cancelled. */
export class UpdateOrderStatusDto {
  @IsIn(TARGET_STATUSES, { message: `status must be one of: ${TARGET_STATUSES.join(', ')}` })
  status: Exclude<OrderStatus, 'placed'>;
}

export class ListOrdersQuery extends PageQuery {
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(Number.MAX_SAFE_INTEGER)
  userId?: number;

  @IsOptional() @IsIn(ORDER_STATUSES)
  status?: OrderStatus;
}
