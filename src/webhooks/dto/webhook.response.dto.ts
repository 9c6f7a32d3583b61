import { ApiProperty } from '@nestjs/swagger';
import type { Attempt, DeliveryDetail, DeliveryStatus, DeliverySummary } from '../deliveries/delivery';
import type { Subscription, SubscriptionWithSecret } from '../subscriptions/subscription';

// OpenAPI descriptions; the runtime shapes are the interfaces they implement.

export class SubscriptionResponse implements Subscription {
  @ApiProperty({ example: 7 })
  id: number;

  @ApiProperty({ example: 'https://example.com/webhooks/nestream' })
  url: string;

  @ApiProperty({ example: ['order_placed', 'order_cancelled'], description: 'Event types, or ["*"] for all' })
  events: string[];

  @ApiProperty({ example: 'Shop front', nullable: true, type: String })
  description: string | null;

  @ApiProperty({ example: true })
  enabled: boolean;

  @ApiProperty({ example: null, nullable: true, type: String, description: '410 Gone, no success for too long, or an administrator' })
  disabledReason: string | null;

  @ApiProperty({ example: null, nullable: true, type: String })
  disabledAt: string | null;

  @ApiProperty({ example: null, nullable: true, type: String, description: 'Since when every attempt has failed' })
  failingSince: string | null;

  @ApiProperty({ example: '2026-11-25T10:00:00.000Z', nullable: true, type: String })
  lastSuccessAt: string | null;

  @ApiProperty({ example: null, nullable: true, type: String, description: 'Until when the previous secret also signs' })
  previousSecretExpiresAt: string | null;

  @ApiProperty({ example: 1 })
  version: number;

  @ApiProperty({ example: '2026-11-25T10:00:00.000Z' })
  createdAt: string;

  @ApiProperty({ example: '2026-11-25T10:00:00.000Z' })
  updatedAt: string;
}

export class SubscriptionWithSecretResponse extends SubscriptionResponse implements SubscriptionWithSecret {
  @ApiProperty({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', description: 'Shown only here and on rotation' })
  secret: string;
}

export class SubscriptionPage {
  @ApiProperty({ type: [SubscriptionResponse] })
  items: SubscriptionResponse[];

  @ApiProperty({ example: null, nullable: true, type: Number, description: 'Pass as `after` for the next page' })
  nextCursor: number | null;
}

export class DeliverySummaryResponse implements DeliverySummary {
  @ApiProperty({ example: 42 })
  id: number;

  @ApiProperty({ example: 'msg_0f8b2c1e9a6d4b3c8e7f6a5b4c3d2e1f', description: 'The webhook-id header, the same on every attempt' })
  messageId: string;

  @ApiProperty({ example: '5b0e3c1a-8f1d-4c7e-9a1b-2d3c4e5f6a7b' })
  eventId: string;

  @ApiProperty({ example: 'order_placed' })
  eventType: string;

  @ApiProperty({ enum: ['pending', 'succeeded', 'failed'] })
  status: DeliveryStatus;

  @ApiProperty({ example: 3 })
  attemptCount: number;

  @ApiProperty({ example: null, nullable: true, type: String })
  nextAttemptAt: string | null;

  @ApiProperty({ example: '2026-11-25T10:00:05.000Z', nullable: true, type: String })
  lastAttemptAt: string | null;

  @ApiProperty({ example: 200, nullable: true, type: Number })
  lastStatusCode: number | null;

  @ApiProperty({ example: '2026-11-25T10:00:00.000Z' })
  createdAt: string;

  @ApiProperty({ example: '2026-11-25T10:00:05.100Z', nullable: true, type: String })
  finishedAt: string | null;
}

export class DeliveryPage {
  @ApiProperty({ type: [DeliverySummaryResponse], description: 'Newest first' })
  items: DeliverySummaryResponse[];

  @ApiProperty({ example: null, nullable: true, type: Number, description: 'Pass as `after` for the next (older) page' })
  nextCursor: number | null;
}

export class AttemptResponse implements Attempt {
  @ApiProperty({ example: 1 })
  attempt: number;

  @ApiProperty({ example: '2026-11-25T10:00:00.100Z' })
  at: string;

  @ApiProperty({ example: 84, nullable: true, type: Number })
  durationMs: number | null;

  @ApiProperty({ example: 500, nullable: true, type: Number })
  statusCode: number | null;

  @ApiProperty({ example: null, nullable: true, type: String, description: 'Timeout, connection error, redirect, refused target' })
  error: string | null;

  @ApiProperty({ example: 'internal error', nullable: true, type: String, description: 'First 4 KiB' })
  responseBody: string | null;
}

export class DeliveryDetailResponse extends DeliverySummaryResponse implements DeliveryDetail {
  @ApiProperty({ example: { type: 'order_placed', timestamp: '2026-11-25T10:00:00.000Z', data: { id: 11 } }, nullable: true })
  payload: unknown;

  @ApiProperty({ example: null, nullable: true, type: String })
  payloadPurgedAt: string | null;

  @ApiProperty({ type: [AttemptResponse] })
  attempts: AttemptResponse[];
}

export class TestQueuedResponse {
  @ApiProperty({ example: 43, description: 'Follow it at GET /webhooks/:id/deliveries/:deliveryId' })
  deliveryId: number;
}

export class RecoverResponse {
  @ApiProperty({ example: 12 })
  requeued: number;

  @ApiProperty({ example: 0, description: 'Failed deliveries whose payload retention already purged' })
  purged: number;
}

export class EventTypeResponse {
  @ApiProperty({ example: 'order_placed' })
  type: string;

  @ApiProperty({ example: 'An order was placed.' })
  description: string;

  @ApiProperty({ example: { id: 11, product: 'sofa', amount: 100000 }, description: 'The `data` of a webhook of this type' })
  example: unknown;

  @ApiProperty({ description: 'JSON Schema of the data (current version)', nullable: true })
  schema: unknown;
}

export class EventTypeList {
  @ApiProperty({ type: [EventTypeResponse] })
  items: EventTypeResponse[];
}

export class InboundAckResponse {
  @ApiProperty({ example: true })
  accepted: true;

  @ApiProperty({ example: false, description: 'True when this webhook-id was accepted before (nothing new written)' })
  duplicate: boolean;
}
