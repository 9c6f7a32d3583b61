import type { AnomalyEventPayload, AnomalyRule } from '../events';

/** Columns of `analytics_anomalies`, as the driver returns them. */
export interface AnomalyRow {
  id: string;
  rule: AnomalyRule;
  message: string;
  observed: number;
  threshold: number;
  order_id: string | null;
  product: string | null;
  user_id: string | null;
  window_start: Date | null;
  window_end: Date | null;
  occurred_at: Date;
  details: Record<string, unknown>;
  detected_at: Date;
  published_at: Date | null;
}

/** The `anomaly_detected` event: what was found, about what, and when the events behind it happened. */
export function toAnomalyEvent(row: AnomalyRow): AnomalyEventPayload {
  return {
    id: Number(row.id),
    rule: row.rule,
    message: row.message,
    observed: Number(row.observed),
    threshold: Number(row.threshold),
    orderId: row.order_id === null ? null : Number(row.order_id),
    product: row.product,
    userId: row.user_id === null ? null : Number(row.user_id),
    windowStart: row.window_start ? row.window_start.toISOString() : null,
    windowEnd: row.window_end ? row.window_end.toISOString() : null,
    occurredAt: row.occurred_at.toISOString(),
    details: row.details,
  };
}

/** An anomaly as `GET /analytics/anomalies` lists it: the event, plus when it was detected and published. */
export type Anomaly = AnomalyEventPayload & { detectedAt: string; publishedAt: string | null };

export function toAnomaly(row: AnomalyRow): Anomaly {
  return {
    ...toAnomalyEvent(row),
    detectedAt: row.detected_at.toISOString(),
    publishedAt: row.published_at ? row.published_at.toISOString() : null,
  };
}
