import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { OrderEventPayload, UserEventPayload } from '../../events';
import { ConsumedEvent, UnprocessableEventError } from '../../messaging/consumer/event-consumer.service';
import { OrdersService } from '../../orders/orders.service';
import { UsersService } from '../../users/users.service';
import { EventLogEntry, EventLogService } from '../event-log/event-log.service';
import { MAX_OUTSIDE_ID } from '../id-sequence';
import { collectBeforeCommit } from '../transaction-hooks';

/**
 * Stores events that producers outside Nestream wrote to our topics (plain JSON, often no headers).
 * Nestream's own events are not for it (`handles`): their state and log entry were committed with the
 * HTTP write, so the consumer ignores them before any transaction.
 * An event carrying `ce_entityversion` is applied only if it is newer than the stored state, whatever
 * topic it came from, so a late `user_created` never overwrites a later `user_updated`; a stale event
 * changes nothing and is not logged.
 *
 * Set-based: the events of the consumer's transaction are collected and stored together just before it
 * commits, one upsert and one log insert per table instead of two statements per event.
 */
@Injectable()
export class IngestService {
  constructor(
    private readonly users: UsersService,
    private readonly orders: OrdersService,
    private readonly eventLog: EventLogService,
  ) {}

  /** Whether an event is this service's to store: only events from producers outside Nestream. */
  handles(event: ConsumedEvent<unknown>): boolean {
    return !event.isOwn;
  }

  async ingestUser(em: EntityManager, event: ConsumedEvent<UserEventPayload>): Promise<void> {
    refuseIdPastCeiling(event);
    collectBeforeCommit(em, 'persistence.ingest.users', event, (events) =>
      this.store(em, events, 'user', (inputs) => this.users.applyExternal(em, inputs)),
    );
  }

  async ingestOrder(em: EntityManager, event: ConsumedEvent<OrderEventPayload>): Promise<void> {
    refuseIdPastCeiling(event);
    collectBeforeCommit(em, 'persistence.ingest.orders', event, (events) =>
      this.store(em, events, 'order', (inputs) => this.orders.applyExternal(em, inputs)),
    );
  }

  /**
   * Applies the events in rounds in which each entity appears once (one upsert cannot touch a row
   * twice): an entity's events keep their order, and each applied one is logged with its new version.
   */
  private async store<P extends { id: number }>(
    em: EntityManager,
    events: ConsumedEvent<P>[],
    entityType: string,
    apply: (inputs: { payload: P; version?: number }[]) => Promise<({ id: number; version: number } | null)[]>,
  ): Promise<void> {
    for (const round of rounds(events)) {
      const stored = await apply(round.map((e) => ({ payload: e.payload, version: e.metadata.entityVersion })));
      const logged: EventLogEntry[] = [];
      round.forEach((event, i) => {
        const state = stored[i];
        if (state) logged.push(logEntry(event, entityType, state.id, state.version));
      });
      await this.eventLog.appendMany(em, logged);
    }
  }
}

/** An outside id past the ceiling would move the id sequence where Nestream's own ids stop being exact. */
function refuseIdPastCeiling(event: ConsumedEvent<{ id: number }>): void {
  if (event.payload.id > MAX_OUTSIDE_ID) {
    throw new UnprocessableEventError(`id ${event.payload.id} is above ${MAX_OUTSIDE_ID}, the largest id an outside producer may use (see MAX_OUTSIDE_ID)`);
  }
}

/** Splits events into consecutive rounds, the n-th event of each entity in round n. */
function rounds<P extends { id: number }>(events: ConsumedEvent<P>[]): ConsumedEvent<P>[][] {
  const result: ConsumedEvent<P>[][] = [];
  const seen = new Map<number, number>();
  for (const event of events) {
    const n = seen.get(event.payload.id) ?? 0;
    seen.set(event.payload.id, n + 1);
    (result[n] ??= []).push(event);
  }
  return result;
}

function logEntry(event: ConsumedEvent<unknown>, entityType: string, entityId: number, version: number): EventLogEntry {
  return {
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
  };
}
