import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { IsInstant } from '../../common/http/validators';
import { ANOMALY_RULES, type AnomalyRule } from '../../events';

const WINDOW_LABEL = { message: 'window must be a number of minutes such as 1m or 5m' };

/** `GET /analytics/summary`: windows that start in [from, to); which windows exist is checked by the service. */
export class SummaryQuery {
  @IsOptional() @Matches(/^[1-9]\d{0,3}m$/, WINDOW_LABEL)
  window?: string;

  @IsOptional() @IsInstant()
  from?: string;

  @IsOptional() @IsInstant()
  to?: string;

  /** Top products listed per window. */
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(20)
  top = 3;
}

/** `GET /analytics/products/top`: the window holding `at` (default now) that ends soonest after it. */
export class TopProductsQuery {
  @IsOptional() @Matches(/^[1-9]\d{0,3}m$/, WINDOW_LABEL)
  window?: string;

  @IsOptional() @IsInstant()
  at?: string;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100)
  limit = 10;
}

/** `GET /analytics/anomalies`: newest first; pass `nextCursor` as `before` for the next page. */
export class AnomaliesQuery {
  @IsOptional() @IsIn(ANOMALY_RULES, { message: `rule must be one of: ${ANOMALY_RULES.join(', ')}` })
  rule?: AnomalyRule;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100)
  limit = 20;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(Number.MAX_SAFE_INTEGER)
  before?: number;
}
