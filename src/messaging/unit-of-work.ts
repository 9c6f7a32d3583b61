import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { appConfig, AppConfig } from '../config/app.config';
import { currentSchemaVersion, EVENT_CATALOGUE, EventType, schemaUrn, SOURCE_PATH, topicOf, validateEventPayload } from '../events';
import { eventLogInsert } from '../persistence/event-log/event-log.service';
import { outgoingTraceparent } from '../common/tracing/trace-context';
import { Metrics } from '../observability/metrics';
import { envelopeHeaders } from './envelope';
import { OutboxRelay } from './outbox/outbox-relay.service';
import { outboxInsert } from './outbox/outbox.service';

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
    private readonly relay: OutboxRelay,
    private readonly metrics: Metrics,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  async run<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    const published: EventType[] = [];
    const result = await this.dataSource.transaction((em) =>
      work({
        em,
        publish: async (event) => {
          const { logged, queued } = this.statementsFor(event, 1);
          // The log entry rides in the outbox insert as a CTE: one round trip for both.
          await em.query(`WITH logged AS (${logged.sql}) ${queued.sql}`, [...logged.params, ...queued.params]);
          published.push(event.type);
        },
      }),
    );
    this.published(published);
    return result;
  }

  /**
   * One write and its event in a single statement, so in one round trip, with no BEGIN and COMMIT:
   * `write` is a data-modifying statement with RETURNING, and the event is logged and queued only if
   * it returned a row. A statement is atomic on its own, so the row and its event still commit
   * together or not at all. For writes whose event is known before the statement runs (the row's id
   * and timestamps chosen by the caller). Returns the write's first row, or undefined.
   */
  async writeOne<R>(write: { sql: string; params: unknown[] }, event: DomainEvent): Promise<R | undefined> {
    const { logged, queued } = this.statementsFor(event, write.params.length + 1);
    const [row] = await this.dataSource.query(
      `WITH written AS (${write.sql}),
            logged AS (${logged.sql} WHERE EXISTS (SELECT 1 FROM written)),
            queued AS (${queued.sql} WHERE EXISTS (SELECT 1 FROM written))
       SELECT * FROM written`,
      [...write.params, ...logged.params, ...queued.params],
    );
    if (row) this.published([event.type]);
    return row as R | undefined;
  }

  private published(types: readonly EventType[]): void {
    if (types.length === 0) return;
    this.relay.wake();
    for (const type of types) this.metrics.eventWritten(topicOf(type));
  }

  /** The event log entry and the outbox record of an event, as INSERTs numbered from parameter `first`. */
  private statementsFor(event: DomainEvent, first: number) {
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
    const entry = {
      eventId,
      type: event.type,
      entityType: entity,
      entityId: String(event.entityId),
      version: event.version,
      payload: event.payload,
      metadata: headers,
      origin: 'nestream' as const,
      occurredAt: event.occurredAt,
      schemaVersion,
    };
    const logged = eventLogInsert([entry], first);
    const record = { eventId, topic: topicOf(event.type), key: String(event.entityId), value: Buffer.from(JSON.stringify(event.payload)), headers };
    return { logged, queued: outboxInsert(record, first + logged.params.length) };
  }
}
