import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { appConfig, AppConfig } from '../config/app.config';
import { currentSchemaVersion, EVENT_CATALOGUE, EventType, schemaUrn, SOURCE_PATH, topicOf, validateEventPayload } from '../events';
import { EventLogService } from '../persistence/event-log/event-log.service';
import { outgoingTraceparent } from '../common/tracing/trace-context';
import { Metrics } from '../observability/metrics';
import { envelopeHeaders } from './envelope';
import { OutboxRelay } from './outbox/outbox-relay.service';
import { OutboxService } from './outbox/outbox.service';

export interface DomainEvent {
  type: EventType;
  entityId: number;
  /** The entity's version after this event. */
  version: number;
  /** The entity's plain JSON: the record value. */
  payload: Record<string, unknown>;
  occurredAt: Date;
}

export interface Transaction {
  readonly em: EntityManager;
  /** Records an event in the event log and the outbox, inside this transaction. */
  publish(event: DomainEvent): Promise<void>;
}

/**
 * The write side's only way to change state: one Postgres transaction that saves the rows and
 * appends their events (transactional outbox). Nothing here talks to Kafka; the relay does, after commit.
 */
@Injectable()
export class UnitOfWork {
  constructor(
    private readonly dataSource: DataSource,
    private readonly eventLog: EventLogService,
    private readonly outbox: OutboxService,
    private readonly relay: OutboxRelay,
    private readonly metrics: Metrics,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  async run<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    let published = 0;
    const topics: string[] = [];
    const result = await this.dataSource.transaction('READ COMMITTED', (em) =>
      work({
        em,
        publish: async (event) => {
          await this.append(em, event);
          published += 1;
          topics.push(topicOf(event.type));
        },
      }),
    );
    if (published > 0) {
      this.relay.wake();
      for (const topic of topics) this.metrics.eventWritten(topic);
    }
    return result;
  }

  private async append(em: EntityManager, event: DomainEvent): Promise<void> {
    // Producers always write the current schema version, and say so in ce_dataschema.
    const schemaVersion = currentSchemaVersion(event.type);
    const check = validateEventPayload(event.type, event.payload, schemaVersion);
    // A producer that breaks its own schema is a bug: fail the request rather than publish it.
    if (!check.valid) throw new Error(`refusing to publish ${event.type}: ${check.reason}`);
    const entity = EVENT_CATALOGUE[event.type].entity;
    const eventId = randomUUID();
    const headers = envelopeHeaders({
      id: eventId,
      type: event.type,
      source: this.config.events.source + SOURCE_PATH[entity],
      time: event.occurredAt,
      subject: String(event.entityId),
      entityVersion: event.version,
      dataschema: schemaUrn(event.type, schemaVersion),
      traceparent: outgoingTraceparent(),
    });
    await this.eventLog.append(em, {
      eventId,
      type: event.type,
      entityType: entity,
      entityId: String(event.entityId),
      version: event.version,
      payload: event.payload,
      metadata: headers,
      origin: 'nestream',
      occurredAt: event.occurredAt,
      schemaVersion,
    });
    await this.outbox.enqueue(em, {
      eventId,
      topic: topicOf(event.type),
      key: String(event.entityId),
      value: Buffer.from(JSON.stringify(event.payload)),
      headers,
    });
  }
}
