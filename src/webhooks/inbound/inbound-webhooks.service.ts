import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { appConfig, AppConfig } from '../../config/app.config';
import { outgoingTraceparent } from '../../common/tracing/trace-context';
import { topicOf } from '../../events';
import { CE } from '../../messaging/envelope';
import { OutboxRelay } from '../../messaging/outbox/outbox-relay.service';
import { OutboxService } from '../../messaging/outbox/outbox.service';
import { InboundWebhooksRepository } from './inbound-webhooks.repository';

/**
 * The CloudEvents source of inbound webhooks. It is not under EVENT_SOURCE, so the ingest consumer
 * treats these records like an outside producer's events and stores them.
 */
export const INBOUND_SOURCE = '/webhooks/inbound';

export type InboundEventType = 'user_created' | 'order_placed';

export interface InboundAck {
  accepted: true;
  /** True when this webhook-id was accepted before: acknowledged again, nothing written. */
  duplicate: boolean;
}

/**
 * Inbound webhooks: the payload goes to the outbox as a plain record on its topic (the value is the
 * payload JSON, as the origin document's producers write it), and the relay publishes it. The
 * webhook-id is recorded in the same transaction, so a replay is acknowledged without a second event.
 * Not a UnitOfWork event: Nestream did not change anything, it relays what someone else reported.
 */
@Injectable()
export class InboundWebhooksService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxService,
    private readonly relay: OutboxRelay,
    private readonly inbound: InboundWebhooksRepository,
    @Inject(appConfig.KEY) config: AppConfig,
  ) {
    if (INBOUND_SOURCE.startsWith(`${config.events.source}/`)) {
      throw new Error(`EVENT_SOURCE ${config.events.source} contains ${INBOUND_SOURCE}: inbound webhooks would look like Nestream's own events`);
    }
  }

  async accept(type: InboundEventType, payload: { id: number }, messageId: string | undefined): Promise<InboundAck> {
    const topic = topicOf(type);
    const written = await this.dataSource.transaction(async (em) => {
      if (messageId !== undefined && !(await this.inbound.remember(em, messageId, topic))) return false;
      const eventId = randomUUID();
      await this.outbox.enqueue(em, {
        eventId,
        topic,
        key: String(payload.id),
        value: Buffer.from(JSON.stringify(payload)),
        // No ce_dataschema: the value is the origin document's shape, version 1 of the schema.
        headers: {
          [CE.specversion]: '1.0',
          [CE.id]: eventId,
          [CE.type]: type,
          [CE.source]: INBOUND_SOURCE,
          [CE.time]: new Date().toISOString(),
          [CE.subject]: String(payload.id),
          [CE.contentType]: 'application/json',
          [CE.traceparent]: outgoingTraceparent(),
        },
      });
      return true;
    });
    if (written) this.relay.wake();
    return { accepted: true, duplicate: !written };
  }
}
