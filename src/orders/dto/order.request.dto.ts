import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsNotEmpty, IsNumber, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { MAX_AMOUNT, ORDER_STATUSES, type OrderStatus } from '../../events';
import { PageQuery } from '../../common/http/page';
import { HasNoNul } from '../../common/http/validators';

export class CreateOrderDto {
  @ApiProperty({ example: 11, description: 'An existing user (else 422)' })
  @IsInt() @Min(1) @Max(Number.MAX_SAFE_INTEGER)
  userId: number;

  @ApiProperty({ example: 'sofa', maxLength: 200 })
  @IsString() @IsNotEmpty() @MaxLength(200) @HasNoNul()
  product: string;

  /** Exact to the cent: a JSON number with at most two decimals, stored as NUMERIC(15,2). */
  @ApiProperty({ example: 100000, minimum: 0, maximum: MAX_AMOUNT, multipleOf: 0.01 })
  @IsNumber({ allowNaN: false, allowInfinity: false, maxDecimalPlaces: 2 }) @Min(0) @Max(MAX_AMOUNT)
  amount: number;

  @ApiPropertyOptional({ example: 1, default: 1, minimum: 1 })
  @IsOptional() @IsInt() @Min(1) @Max(1_000_000)
  quantity?: number;
}

const TARGET_STATUSES = ORDER_STATUSES.filter((s) => s !== 'placed');

/** `PATCH /orders/:id`: a status change along placed → paid → shipped, or to cancelled. */
export class UpdateOrderStatusDto {
  @ApiProperty({ enum: TARGET_STATUSES, example: 'paid' })
  @IsIn(TARGET_STATUSES, { message: `status must be one of: ${TARGET_STATUSES.join(', ')}` })
  status: Exclude<OrderStatus, 'placed'>;
}

export class ListOrdersQuery extends PageQuery {
  @ApiPropertyOptional({ example: 11 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(Number.MAX_SAFE_INTEGER)
  userId?: number;

  @ApiPropertyOptional({ enum: ORDER_STATUSES })
  @IsOptional() @IsIn(ORDER_STATUSES)
  status?: OrderStatus;
}
