import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { appConfig, AppConfig } from '../../config/app.config';
import { currentTrace, formatTraceparent } from '../../common/tracing/trace-context';
import { EVENT_CATALOGUE } from '../../events';
import type { ConsumedEvent } from '../../messaging/consumer/event-consumer.service';
import { firstDelay } from '../dispatch/retry-policy';
import { DeliveriesRepository } from './deliveries.repository';
import { webhookBody } from './delivery';

/** The fan-out consumer's name in the inbox: each event is fanned out once, whatever the redeliveries. */
export const FAN_OUT_CONSUMER = 'webhooks.fanout';

/**
 * The fan-out consumer's effect: turns one consumed event into one delivery per matching enabled
 * subscription, in the consumer's transaction (with its inbox row, so a redelivered event adds none).
 */
@Injectable()
export class FanOutService {
  constructor(
    private readonly deliveries: DeliveriesRepository,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  async fanOut(em: EntityManager, event: ConsumedEvent<{ id?: unknown }>): Promise<number> {
    const entity = EVENT_CATALOGUE[event.type].entity;
    // Every event payload carries its entity's id; the record key is the fallback.
    const entityId = event.payload.id ?? event.key ?? event.id;
    // The consumer runs in a span of the event's trace: the webhook request continues that trace.
    const trace = currentTrace();
    return this.deliveries.fanOut(em, {
      eventId: event.id,
      type: event.type,
      entityType: entity,
      entityId: String(entityId),
      entityVersion: event.metadata.entityVersion ?? 0,
      body: webhookBody(event.type, event.occurredAt, event.payload),
      traceparent: trace ? formatTraceparent(trace) : (event.metadata.traceparent ?? null),
      firstDelayMs: firstDelay(this.config.webhooks.retry),
    });
  }
}
