/** `pending` until an attempt succeeds or the schedule is exhausted (`failed`). */
export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** Sent to one subscription by `POST /webhooks/:id/test`; never published to Kafka. */
export const TEST_EVENT_TYPE = 'webhook.test';

export interface DeliveryRow {
  id: string;
  subscription_id: string;
  message_id: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date | null;
  last_attempt_at: Date | null;
  last_status_code: number | null;
  finished_at: Date | null;
  payload_purged_at: Date | null;
  created_at: Date;
}

export interface AttemptRow {
  attempt: number;
  started_at: Date;
  duration_ms: number | null;
  status_code: number | null;
  error: string | null;
  response_body: string | null;
}

/** A line of the delivery log. */
export interface DeliverySummary {
  id: number;
  /** The `webhook-id` header: the same on every attempt, for the receiver to deduplicate. */
  messageId: string;
  eventId: string;
  eventType: string;
  status: DeliveryStatus;
  attemptCount: number;
  /** When the next attempt is due; null once the delivery is finished. */
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  lastStatusCode: number | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface Attempt {
  attempt: number;
  at: string;
  durationMs: number | null;
  statusCode: number | null;
  error: string | null;
  /** The first 4 KiB of the response body. */
  responseBody: string | null;
}

export interface DeliveryDetail extends DeliverySummary {
  /** The request body as sent (`{type, timestamp, data}`); null once retention purged it. */
  payload: unknown;
  payloadPurgedAt: string | null;
  attempts: Attempt[];
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toDeliverySummary(row: DeliveryRow): DeliverySummary {
  return {
    id: Number(row.id),
    messageId: row.message_id,
    eventId: row.event_id,
    eventType: row.event_type,
    status: row.status,
    attemptCount: row.attempts,
    nextAttemptAt: row.status === 'pending' ? iso(row.next_attempt_at) : null,
    lastAttemptAt: iso(row.last_attempt_at),
    lastStatusCode: row.last_status_code,
    createdAt: row.created_at.toISOString(),
    finishedAt: iso(row.finished_at),
  };
}

export function toAttempt(row: AttemptRow): Attempt {
  return {
    attempt: row.attempt,
    at: row.started_at.toISOString(),
    durationMs: row.duration_ms,
    statusCode: row.status_code,
    error: row.error,
    responseBody: row.response_body,
  };
}

/** The JSON body of a webhook request, per Standard Webhooks: `{type, timestamp, data}`. */
export function webhookBody(type: string, occurredAt: Date, data: unknown): string {
  return JSON.stringify({ type, timestamp: occurredAt.toISOString(), data });
}
