import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { OrderEventPayload, UserEventPayload } from '../../events';
import type { ConsumedEvent } from '../../messaging/consumer/event-consumer.service';
import { OrdersService } from '../../orders/orders.service';
import { UsersService } from '../../users/users.service';
import { EventLogService } from '../event-log/event-log.service';

/**
 * Stores events that producers outside Nestream wrote to our topics (plain JSON, often no headers).
 * Nestream's own events are skipped: their state and log entry were committed with the HTTP write.
 * An event carrying `ce_entityversion` is applied only if it is newer than the stored state, whatever
 * topic it came from, so a late `user_created` never overwrites a later `user_updated`; a stale event
 * changes nothing and is not logged.
 */
@Injectable()
export class IngestService {
  constructor(
    private readonly users: UsersService,
    private readonly orders: OrdersService,
    private readonly eventLog: EventLogService,
  ) {}

  async ingestUser(em: EntityManager, event: ConsumedEvent<UserEventPayload>): Promise<void> {
    if (event.isOwn) return;
    const user = await this.users.applyExternal(em, event.payload, event.metadata.entityVersion);
    if (!user) return;
    await this.log(em, event, 'user', user.id, user.version);
  }

  async ingestOrder(em: EntityManager, event: ConsumedEvent<OrderEventPayload>): Promise<void> {
    if (event.isOwn) return;
    const order = await this.orders.applyExternal(em, event.payload, event.metadata.entityVersion);
    if (!order) return;
    await this.log(em, event, 'order', order.id, order.version);
  }

  private async log(em: EntityManager, event: ConsumedEvent<unknown>, entityType: string, entityId: number, version: number) {
    await this.eventLog.append(em, {
      eventId: event.id,
      type: event.type,
      entityType,
      entityId: String(entityId),
      version,
      // The log keeps what arrived; readers see it through the upcasters, as this consumer did.
      payload: event.receivedPayload,
      schemaVersion: event.schemaVersion,
      metadata: { ...event.metadata, kafka: { topic: event.topic, partition: event.partition, offset: event.offset } },
      origin: 'ingested',
      occurredAt: event.occurredAt,
    });
  }
}
