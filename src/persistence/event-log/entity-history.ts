import { EntityNotFoundError } from '../../common/errors';
import type { HistoryEntryResponse, HistoryPage } from '../../common/http/history';
import { currentSchemaVersion, schemaUrn, schemaVersions } from '../../events';
import type { EventLogReader, LoggedEvent } from './event-log.reader';

/** A page of an entity's events in log order; 404 when the log has never heard of the entity. */
export async function historyPage(reader: EventLogReader, entityType: string, entityId: number, after = 0, limit = 20): Promise<HistoryPage> {
  const events = await reader.history(entityType, String(entityId), after, limit + 1);
  if (events.length === 0 && !(await reader.hasHistory(entityType, String(entityId)))) {
    throw new EntityNotFoundError(entityType, entityId, `${entityType} ${entityId} has no history`);
  }
  const items = events.slice(0, limit).map(toHistoryEntry);
  return { items, nextCursor: events.length > limit ? items[items.length - 1].position : null };
}

export function toHistoryEntry(e: LoggedEvent): HistoryEntryResponse {
  const known = schemaVersions(e.type).length > 0;
  return {
    position: e.position,
    type: e.type,
    version: e.version,
    dataschema: schemaUrn(e.type, known ? currentSchemaVersion(e.type) : e.schemaVersion),
    writtenWithSchemaVersion: e.schemaVersion,
    occurredAt: e.occurredAt.toISOString(),
    recordedAt: e.recordedAt.toISOString(),
    origin: e.origin,
    payload: e.payload,
    metadata: e.metadata,
  };
}
