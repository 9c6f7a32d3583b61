import { SCHEMA_FILES } from './schemas/index.generated';

/** A JSON Schema document as stored in `schemas/<type>/v<N>.json` (draft-07, flat object schemas). */
export interface JsonSchema {
  $id?: string;
  type?: string | readonly string[];
  required?: readonly string[];
  properties?: Record<string, JsonSchema & { default?: unknown }>;
  additionalProperties?: boolean | JsonSchema;
  enum?: readonly unknown[];
  format?: string;
  items?: JsonSchema;
  examples?: readonly unknown[];
  default?: unknown;
  [keyword: string]: unknown;
}

const URN_PREFIX = 'urn:nestream:schema:';
const URN = /^urn:nestream:schema:([a-z][a-z0-9._]*):([1-9]\d{0,5})$/;

/** Versions of each event type, index 0 holding version 1. */
const BY_TYPE = new Map<string, JsonSchema[]>();
for (const f of SCHEMA_FILES) {
  const list = BY_TYPE.get(f.type) ?? [];
  list[f.version - 1] = f.schema as JsonSchema;
  BY_TYPE.set(f.type, list);
}

/**
 * The schema id that travels with an event as its CloudEvents `dataschema`, e.g.
 * `urn:nestream:schema:user_created:2`. It is also the schema file's `$id`.
 */
export function schemaUrn(type: string, version: number): string {
  return `${URN_PREFIX}${type}:${version}`;
}

export function parseSchemaUrn(urn: string): { type: string; version: number } | undefined {
  const m = URN.exec(urn.trim());
  return m ? { type: m[1], version: Number(m[2]) } : undefined;
}

/** The event types that have schema files. */
export function schemaTypes(): string[] {
  return [...BY_TYPE.keys()].sort();
}

export function schemaVersions(type: string): number[] {
  return (BY_TYPE.get(type) ?? []).map((_, i) => i + 1);
}

/** The version producers write: the highest one in the repository. */
export function currentSchemaVersion(type: string): number {
  const versions = BY_TYPE.get(type);
  if (!versions) throw new Error(`event type ${type} has no schema file in src/events/schemas/${type}/`);
  return versions.length;
}

export function schemaOf(type: string, version = currentSchemaVersion(type)): JsonSchema | undefined {
  return BY_TYPE.get(type)?.[version - 1];
}

/** The examples of a version's schema file (its `examples` keyword), the last one the fullest. */
export function examplesOf(type: string, version = currentSchemaVersion(type)): readonly Record<string, unknown>[] {
  return (schemaOf(type, version)?.examples ?? []) as readonly Record<string, unknown>[];
}
