import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { IsInstant } from './validators';

/** `?at=`: read an entity as it was at an instant (ISO 8601 with a time zone, e.g. 2026-11-25T10:00:00Z). */
export class AtQuery {
  @ApiPropertyOptional({ example: '2026-11-25T10:00:00Z', description: 'Return the entity as it was at this instant, folded from its events' })
  @IsOptional()
  @IsInstant()
  at?: string;
}

/** One event of an entity's history, as `GET /users/:id/history` and `GET /orders/:id/history` return it. */
export class HistoryEntryResponse {
  @ApiProperty({ example: 42, description: 'Global position in the event log; pass the last one as `after` for the next page' })
  position: number;

  @ApiProperty({ example: 'user_updated' })
  type: string;

  @ApiProperty({ example: 2, nullable: true, type: Number, description: "The entity's version after the event" })
  version: number | null;

  @ApiProperty({ example: 'urn:nestream:schema:user_updated:1', description: 'Schema of the payload as returned (upcast to the current version)' })
  dataschema: string;

  @ApiProperty({ example: 1, description: 'Schema version the event was written with' })
  writtenWithSchemaVersion: number;

  @ApiProperty({ example: '2026-11-25T10:00:00.000Z' })
  occurredAt: string;

  @ApiProperty({ example: '2026-11-25T10:00:00.012Z' })
  recordedAt: string;

  @ApiProperty({ enum: ['nestream', 'ingested'] })
  origin: 'nestream' | 'ingested';

  @ApiProperty({ type: 'object', additionalProperties: true, example: { id: 11, name: 'King Arthur' } })
  payload: Record<string, unknown>;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The CloudEvents headers it travelled with' })
  metadata: Record<string, unknown>;
}

export class HistoryPage {
  @ApiProperty({ type: [HistoryEntryResponse] })
  items: HistoryEntryResponse[];

  @ApiProperty({ example: 42, nullable: true, type: Number, description: 'Pass as `after` for the next page' })
  nextCursor: number | null;
}
