import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { appConfig, AppConfig } from '../../config/app.config';
import { currentTrace, formatTraceparent } from '../../common/tracing/trace-context';
import { EVENT_CATALOGUE } from '../../events';
import type { ConsumedEvent } from '../../messaging/consumer/event-consumer.service';
import { firstDelay } from '../dispatch/retry-policy';
import { collectBeforeCommit } from '../../persistence/transaction-hooks';
import { CommittedWork } from '../../messaging/wake-signal';
import { DeliveriesRepository, EventForFanOut } from './deliveries.repository';
import { webhookBody } from './delivery';

/** The fan-out consumer's name in the inbox: each event is fanned out once, whatever the redeliveries. */
export const FAN_OUT_CONSUMER = 'webhooks.fanout';

/**
 * The fan-out consumer's effect: turns consumed events into one delivery per matching enabled
 * subscription, in the consumer's transaction (with their inbox rows, so a redelivered event adds
 * none). The events of a transaction are fanned out together, with one insert just before it commits.
 */
@Injectable()
export class FanOutService {
  /** Deliveries were queued: the dispatcher has something to claim once the transaction commits. */
  readonly queued = new CommittedWork();

  constructor(
    private readonly deliveries: DeliveriesRepository,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  fanOut(em: EntityManager, event: ConsumedEvent<{ id?: unknown }>): void {
    const entity = EVENT_CATALOGUE[event.type].entity;
    // Every event payload carries its entity's id; the record key is the fallback.
    const entityId = event.payload.id ?? event.key ?? event.id;
    // The consumer runs in a span of the event's trace: the webhook request continues that trace.
    const trace = currentTrace();
    const delivery: EventForFanOut = {
      eventId: event.id,
      type: event.type,
      entityType: entity,
      entityId: String(entityId),
      entityVersion: event.metadata.entityVersion ?? 0,
      body: webhookBody(event.type, event.occurredAt, event.payload),
      traceparent: trace ? formatTraceparent(trace) : (event.metadata.traceparent ?? null),
      firstDelayMs: firstDelay(this.config.webhooks.retry),
    };
    collectBeforeCommit(em, FAN_OUT_CONSUMER, delivery, async (events) => {
      if ((await this.deliveries.fanOut(em, events)) > 0) this.queued.note();
    });
  }
}
