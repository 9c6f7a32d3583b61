import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { EVENT_TYPES, type EventType } from '../../events';

const toList = ({ value }: { value: unknown }) =>
  (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(',')).map((s) => s.trim()).filter((s) => s !== '');

/** `GET /events/stream?type=order_placed,order_cancelled&backlog=20` */
export class StreamQuery {
  /** Event types to stream, comma-separated or repeated; all when absent. */
  @IsOptional() @Transform(toList) @IsIn(EVENT_TYPES, { each: true, message: `type must be one of: ${EVENT_TYPES.join(', ')}` })
  type?: EventType[];

  /** How many recent events to send first, when not resuming. */
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(500)
  backlog = 0;

  /** Same as the Last-Event-ID header, for clients that cannot set headers. */
  @IsOptional() @IsString()
  lastEventId?: string;
}
