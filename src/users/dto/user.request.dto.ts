import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsNotEmpty, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';
import { HasNoNul } from '../../common/http/validators';

const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/** `POST /users` and `PUT /users/:id`: PUT replaces both fields, so a missing email clears it. */
export class CreateUserDto {
  @ApiProperty({ example: 'King', maxLength: 200 })
  @Transform(trimmed) @IsString() @IsNotEmpty() @MaxLength(200) @HasNoNul()
  name: string;

  @ApiPropertyOptional({ example: 'king@example.com', nullable: true, maxLength: 320 })
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsEmail() @MaxLength(320)
  email?: string | null;
}

export class ReplaceUserDto extends CreateUserDto {}

/**
 * `PATCH /users/:id`: only the fields present change. Null is validated like any value (not skipped as
 * absent), so `{"name": null}` is refused rather than written into a NOT NULL column; email keeps its own
 * rule that null clears it.
 */
export class PatchUserDto extends PartialType(CreateUserDto, { skipNullProperties: false }) {}
