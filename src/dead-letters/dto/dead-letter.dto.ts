import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PageQuery } from '../../common/http/page';

export class ListDeadLettersQuery extends PageQuery {
  @ApiPropertyOptional({ example: 'user_created', description: 'Original topic' })
  @IsOptional() @IsString() @MaxLength(249) @Matches(/^[A-Za-z0-9._-]+$/, { message: 'topic may hold letters, digits, ".", "_" and "-"' })
  topic?: string;
}

export class DeadLetterResponse {
  @ApiProperty({ example: 7 }) id: number;
  @ApiProperty({ example: 'persistence.ingest', description: '"*" when no consumer could read the message' }) consumer: string;
  @ApiProperty({ example: 'user_created' }) topic: string;
  @ApiProperty({ example: 3 }) partition: number;
  @ApiProperty({ example: '1042' }) offset: string;
  @ApiProperty({ example: '11', nullable: true, type: String }) key: string | null;
  @ApiProperty({ example: 'this is not json {', nullable: true, type: String, description: 'The original value, as UTF-8 text' })
  value: string | null;
  @ApiProperty({ example: { ce_id: '…' } }) headers: Record<string, string>;
  @ApiProperty({ example: 'value is not JSON: Unexpected token' }) reason: string;
  @ApiProperty({ example: 3 }) attempts: number;
  @ApiProperty({ example: '2026-11-25T10:00:00.000Z' }) createdAt: string;
  @ApiProperty({ example: null, nullable: true, type: String }) replayedAt: string | null;
}

export class DeadLetterPage {
  @ApiProperty({ type: [DeadLetterResponse] }) items: DeadLetterResponse[];
  @ApiProperty({ example: null, nullable: true, type: Number }) nextCursor: number | null;
}
