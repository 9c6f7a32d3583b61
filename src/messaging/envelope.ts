import { currentSchemaVersion, schemaUrn, type EventType } from '../events';

/**
 * CloudEvents 1.0 metadata in Kafka binary content mode: attributes travel as `ce_`-prefixed
 * headers and the record value stays the entity's plain JSON.
 */
export const CE = {
  specversion: 'ce_specversion',
  id: 'ce_id',
  type: 'ce_type',
  source: 'ce_source',
  time: 'ce_time',
  subject: 'ce_subject',
  /** Extension attribute: the entity's version after this event, so consumers can refuse stale events. */
  entityversion: 'ce_entityversion',
  /** The schema the value was written with, e.g. `urn:nestream:schema:user_created:2`; none means version 1. */
  dataschema: 'ce_dataschema',
  /** W3C Trace Context of the request that caused the event. */
  traceparent: 'traceparent',
  contentType: 'content-type',
} as const;

export interface EventEnvelope {
  id: string;
  type: EventType;
  source: string;
  time: Date;
  subject: string;
  entityVersion: number;
  /** Schema URN of the value; the event type's current version when left out. */
  dataschema?: string;
  traceparent?: string;
}

export function envelopeHeaders(e: EventEnvelope): Record<string, string> {
  return {
    [CE.specversion]: '1.0',
    [CE.id]: e.id,
    [CE.type]: e.type,
    [CE.source]: e.source,
    [CE.time]: e.time.toISOString(),
    [CE.subject]: e.subject,
    [CE.entityversion]: String(e.entityVersion),
    [CE.dataschema]: e.dataschema ?? schemaUrn(e.type, currentSchemaVersion(e.type)),
    [CE.contentType]: 'application/json',
    ...(e.traceparent && { [CE.traceparent]: e.traceparent }),
  };
}

/** Metadata of a received record; every field is optional because outside producers send no headers. */
export interface ReceivedMetadata {
  id?: string;
  type?: string;
  source?: string;
  time?: string;
  subject?: string;
  entityVersion?: number;
  dataschema?: string;
  traceparent?: string;
}

export function readEnvelope(headers: Record<string, unknown>): ReceivedMetadata {
  const text = (name: string): string | undefined => {
    const v = headers[name];
    if (v === undefined || v === null) return undefined;
    return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  };
  const version = Number(text(CE.entityversion));
  return {
    id: text(CE.id),
    type: text(CE.type),
    source: text(CE.source),
    time: text(CE.time),
    subject: text(CE.subject),
    entityVersion: Number.isSafeInteger(version) && version > 0 ? version : undefined,
    dataschema: text(CE.dataschema),
    traceparent: text(CE.traceparent),
  };
}

/**
 * The id of a record that carries no `ce_id` (an outside producer's): its coordinates and timestamp.
 * Stable across redelivery, as the inbox needs. The timestamp keeps it unique when the coordinates come
 * round again — a topic deleted and created anew, or the app pointed at another cluster with the same
 * database — where coordinates alone would make the inbox drop new records as already handled.
 */
export function recordId(topic: string, partition: number, offset: string, timestamp: string): string {
  return `kafka:${topic}:${partition}:${offset}:${timestamp}`;
}
