import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsInt, IsNotEmpty, IsNumber, IsOptional, IsString, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import { MAX_AMOUNT } from '../../events';
import { HasNoNul } from '../../common/http/validators';
import { MAX_OUTSIDE_ID } from '../../persistence/id-sequence';

/** `POST /webhook/user_created`: the origin document's user, `{"id": 11, "name": "King"}`, optionally an email. */
export class InboundUserDto {
  @ApiProperty({ example: 11 })
  @IsInt() @Min(1) @Max(MAX_OUTSIDE_ID)
  id: number;

  @ApiProperty({ example: 'King', maxLength: 200 })
  @IsString() @IsNotEmpty() @MaxLength(200) @HasNoNul()
  name: string;

  @ApiPropertyOptional({ example: 'king@example.com', nullable: true, maxLength: 320 })
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsEmail() @MaxLength(320)
  email?: string | null;
}

/** `POST /webhook/order_placed`: the origin document's order, `{"id": 11, "product": "sofa", "amount": 100000}`. */
export class InboundOrderDto {
  @ApiProperty({ example: 11 })
  @IsInt() @Min(1) @Max(MAX_OUTSIDE_ID)
  id: number;

  @ApiProperty({ example: 'sofa', maxLength: 200 })
  @IsString() @IsNotEmpty() @MaxLength(200) @HasNoNul()
  product: string;

  @ApiProperty({ example: 100000, minimum: 0, maximum: MAX_AMOUNT, multipleOf: 0.01 })
  @IsNumber({ allowNaN: false, allowInfinity: false, maxDecimalPlaces: 2 }) @Min(0) @Max(MAX_AMOUNT)
  amount: number;

  @ApiPropertyOptional({ example: 11, nullable: true })
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsInt() @Min(1) @Max(Number.MAX_SAFE_INTEGER)
  userId?: number | null;

  @ApiPropertyOptional({ example: 1, minimum: 1 })
  @IsOptional() @IsInt() @Min(1) @Max(1_000_000)
  quantity?: number;
}
