import { ApiProperty } from '@nestjs/swagger';
import type { User } from '../user';

/** OpenAPI description of a user; the runtime shape is `User` (user.ts). */
export class UserResponse implements User {
  @ApiProperty({ example: 11 })
  id: number;

  @ApiProperty({ example: 'King' })
  name: string;

  @ApiProperty({ example: 'king@example.com', nullable: true, type: String })
  email: string | null;

  @ApiProperty({ example: 1, description: 'Incremented by every change' })
  version: number;

  @ApiProperty({ example: '2026-11-25T10:00:00.000Z' })
  createdAt: string;

  @ApiProperty({ example: '2026-11-25T10:00:00.000Z' })
  updatedAt: string;
}

export class UserPage {
  @ApiProperty({ type: [UserResponse] })
  items: UserResponse[];

  @ApiProperty({ example: 42, nullable: true, type: Number, description: 'Pass as `after` for the next page' })
  nextCursor: number | null;
}
