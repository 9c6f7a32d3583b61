import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { currentSchemaVersion, schemaVersions } from '../../events';

export interface EventLogEntry {
  eventId: string;
  type: string;
  entityType: string;
  entityId: string;
  version: number | null;
  payload: unknown;
  metadata: Record<string, unknown>;
  origin: 'nestream' | 'ingested';
  occurredAt: Date;
  /** The schema version the payload was written with; the type's current version when left out. */
  schemaVersion?: number;
}

/**
 * The append-only log of every event Nestream published or ingested, with a global position.
 * Always written inside the caller's transaction, next to the state change it records.
 */
@Injectable()
export class EventLogService {
  /** Appends an entry; returns false when an event with that id is already logged. */
  async append(em: EntityManager, e: EventLogEntry): Promise<boolean> {
    return (await this.appendMany(em, [e])).has(e.eventId);
  }

  /** Appends entries in one statement, in order; returns the ids of those not already logged. */
  async appendMany(em: EntityManager, entries: readonly EventLogEntry[]): Promise<Set<string>> {
    if (entries.length === 0) return new Set();
    const insert = eventLogInsert(entries);
    const rows: { event_id: string }[] = await em.query(`${insert.sql} ON CONFLICT (event_id) DO NOTHING RETURNING event_id`, insert.params);
    return new Set(rows.map((r) => r.event_id));
  }
}

/**
 * The INSERT that logs `entries` in order, with its parameters numbered from `first`: appendMany runs
 * it alone; the unit of work runs it as a CTE of the outbox insert, so publishing is one round trip.
 */
export function eventLogInsert(entries: readonly EventLogEntry[], first = 1): { sql: string; params: unknown[] } {
  const column = <T>(pick: (e: EventLogEntry) => T) => entries.map(pick);
  const $ = (n: number) => `$${first + n}`;
  return {
    sql: `INSERT INTO event_log (event_id, type, entity_type, entity_id, version, payload, metadata, origin, occurred_at, schema_version)
       SELECT * FROM unnest(${$(0)}::text[], ${$(1)}::text[], ${$(2)}::text[], ${$(3)}::text[], ${$(4)}::int[], ${$(5)}::jsonb[], ${$(6)}::jsonb[], ${$(7)}::text[], ${$(8)}::timestamptz[], ${$(9)}::int[])`,
    params: [
      column((e) => e.eventId),
      column((e) => e.type),
      column((e) => e.entityType),
      column((e) => e.entityId),
      column((e) => e.version),
      column((e) => JSON.stringify(e.payload)),
      column((e) => JSON.stringify(e.metadata)),
      column((e) => e.origin),
      column((e) => e.occurredAt),
      column((e) => e.schemaVersion ?? (schemaVersions(e.type).length > 0 ? currentSchemaVersion(e.type) : 1)),
    ],
  };
}
