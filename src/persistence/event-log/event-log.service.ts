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
    const schemaVersion = e.schemaVersion ?? (schemaVersions(e.type).length > 0 ? currentSchemaVersion(e.type) : 1);
    const rows: unknown[] = await em.query(
      `INSERT INTO event_log (event_id, type, entity_type, entity_id, version, payload, metadata, origin, occurred_at, schema_version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (event_id) DO NOTHING
       RETURNING position`,
      [
        e.eventId,
        e.type,
        e.entityType,
        e.entityId,
        e.version,
        JSON.stringify(e.payload),
        JSON.stringify(e.metadata),
        e.origin,
        e.occurredAt,
        schemaVersion,
      ],
    );
    return rows.length > 0;
  }
}
