import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { schemaVersions, upcast } from '../../events';

/** One event of the log, its payload read as the current schema version of its type. */
export interface LoggedEvent {
  position: number;
  eventId: string;
  type: string;
  entityType: string;
  entityId: string;
  /** The entity's version after the event. */
  version: number | null;
  /** The schema version the payload was written with (it is returned upcast to the current one). */
  schemaVersion: number;
  payload: Record<string, unknown>;
  metadata: Record<string, unknown>;
  origin: 'nestream' | 'ingested';
  occurredAt: Date;
  /** When the log recorded it: its transaction's `now()` (when the transaction began, not its commit), as the row's timestamps of an ingested event. */
  recordedAt: Date;
}

interface Row {
  position: string;
  event_id: string;
  type: string;
  entity_type: string;
  entity_id: string;
  version: number | null;
  schema_version: number;
  payload: Record<string, unknown>;
  metadata: Record<string, unknown>;
  origin: 'nestream' | 'ingested';
  occurred_at: Date;
  recorded_at: Date;
}

const COLUMNS = `position, event_id, type, entity_type, entity_id, version, schema_version, payload, metadata, origin, occurred_at, recorded_at`;

/**
 * Reads the event log. Stored payloads stay as they were written; readers see them through the
 * upcasters, so a fold or a projection only ever handles the current version of each event type.
 */
@Injectable()
export class EventLogReader {
  constructor(private readonly dataSource: DataSource) {}

  /** An entity's events after `after` (a position), oldest first; `limit + 1` rows tell the caller there is more. */
  async history(entityType: string, entityId: string, after: number, limit: number): Promise<LoggedEvent[]> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM event_log
        WHERE entity_type = $1 AND entity_id = $2 AND position > $3
        ORDER BY position LIMIT $4`,
      [entityType, entityId, after, limit],
    );
    return rows.map(toLoggedEvent);
  }

  async hasHistory(entityType: string, entityId: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(`SELECT 1 FROM event_log WHERE entity_type = $1 AND entity_id = $2 LIMIT 1`, [
      entityType,
      entityId,
    ]);
    return rows.length > 0;
  }

  /** An entity's events with `after < position < before`, oldest first, at most `limit`. */
  async entityEvents(em: EntityManager, entityType: string, entityId: string, after: number, before: number, limit: number): Promise<LoggedEvent[]> {
    const rows: Row[] = await em.query(
      `SELECT ${COLUMNS} FROM event_log
        WHERE entity_type = $1 AND entity_id = $2 AND position > $3 AND position < $4
        ORDER BY position LIMIT $5`,
      [entityType, entityId, after, before, limit],
    );
    return rows.map(toLoggedEvent);
  }

  /**
   * Events of several entities of one type, each with `after < position < before` of its own, grouped by
   * entity and in log order: one statement where `entityEvents` would take one per entity.
   */
  async eventsOfEntities(em: EntityManager, entityType: string, ranges: readonly { entityId: string; after: number; before: number }[]): Promise<LoggedEvent[]> {
    if (ranges.length === 0) return [];
    const rows: Row[] = await em.query(
      `SELECT ${COLUMNS.split(', ').map((c) => `e.${c}`).join(', ')}
         FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS r(entity_id, after, before)
         JOIN event_log e ON e.entity_type = $1 AND e.entity_id = r.entity_id AND e.position > r.after AND e.position < r.before
        ORDER BY e.entity_id, e.position`,
      [entityType, ranges.map((r) => r.entityId), ranges.map((r) => r.after), ranges.map((r) => r.before)],
    );
    return rows.map(toLoggedEvent);
  }

  /** Positions of the given events; an event not in the log has none. */
  async positionsOf(em: EntityManager, eventIds: readonly string[]): Promise<Map<string, number>> {
    const rows: { event_id: string; position: string }[] = await em.query(`SELECT event_id, position FROM event_log WHERE event_id = ANY($1::text[])`, [
      [...eventIds],
    ]);
    return new Map(rows.map((r) => [r.event_id, Number(r.position)]));
  }

  /**
   * The position of an entity's first event that changed it after `at`, or null when none did. An outside
   * event counts from when it was stored (`recorded_at`, the time its fold stamps too), not from the
   * producer's clock (`ce_time`, or the record's timestamp), which may be hours off either way.
   */
  async firstPositionAfter(em: EntityManager, entityType: string, entityId: string, at: Date): Promise<number | null> {
    const [row] = await em.query(
      `SELECT min(position) AS position FROM event_log
        WHERE entity_type = $1 AND entity_id = $2 AND (CASE WHEN origin = 'ingested' THEN recorded_at ELSE occurred_at END) > $3`,
      [entityType, entityId, at],
    );
    return row.position === null ? null : Number(row.position);
  }

  /** Events of the given entity types with `after < position <= upTo`, in log order, at most `limit`. */
  async stream(em: EntityManager, entityTypes: readonly string[], after: number, upTo: number, limit: number): Promise<LoggedEvent[]> {
    const rows: Row[] = await em.query(
      `SELECT ${COLUMNS} FROM event_log
        WHERE position > $1 AND position <= $2 AND entity_type = ANY($3::text[])
        ORDER BY position LIMIT $4`,
      [after, upTo, [...entityTypes], limit],
    );
    return rows.map(toLoggedEvent);
  }

  async lastPosition(em: EntityManager): Promise<number> {
    const [row] = await em.query(`SELECT coalesce(max(position), 0) AS position FROM event_log`);
    return Number(row.position);
  }
}

function toLoggedEvent(r: Row): LoggedEvent {
  const known = schemaVersions(r.type).length > 0;
  return {
    position: Number(r.position),
    eventId: r.event_id,
    type: r.type,
    entityType: r.entity_type,
    entityId: r.entity_id,
    version: r.version,
    schemaVersion: r.schema_version,
    // Validated when written or received; an event type no schema knows any more is returned as stored.
    payload: known ? upcast(r.type, r.payload, r.schema_version) : r.payload,
    metadata: r.metadata,
    origin: r.origin,
    occurredAt: r.occurred_at,
    recordedAt: r.recorded_at,
  };
}
