import type { JsonSchema } from './schemas';

/**
 * The rule a schema registry would enforce between consecutive versions of one event type, so that
 * consumers keep working across a schema change:
 * - a field must not be removed (a consumer of the previous version may read it);
 * - a field must not change type, format or lose an enum value (stored events would no longer fit);
 * - a field that becomes required needs a default (the upcaster fills it into older events);
 * - an open object must not be closed (events with extra fields would no longer fit).
 * Returns one message per breaking change; empty when `next` is a compatible successor of `previous`.
 */
export function breakingChanges(previous: JsonSchema, next: JsonSchema, path = ''): string[] {
  const changes: string[] = [];
  const at = (name: string) => (path ? `${path}.${name}` : name);
  const before = previous.properties ?? {};
  const after = next.properties ?? {};

  for (const [name, old] of Object.entries(before)) {
    const now = after[name];
    if (!now) {
      changes.push(`${at(name)}: removed`);
      continue;
    }
    const oldTypes = typesOf(old);
    const newTypes = typesOf(now);
    if (oldTypes !== newTypes) changes.push(`${at(name)}: type changed from ${oldTypes || 'any'} to ${newTypes || 'any'}`);
    if (old.format !== now.format) changes.push(`${at(name)}: format changed from ${old.format ?? 'none'} to ${now.format ?? 'none'}`);
    if (old.enum) {
      const kept = new Set((now.enum ?? old.enum).map((v) => JSON.stringify(v)));
      const dropped = old.enum.filter((v) => !kept.has(JSON.stringify(v)));
      if (dropped.length > 0) changes.push(`${at(name)}: enum lost ${dropped.map((v) => JSON.stringify(v)).join(', ')}`);
    }
    if (old.properties || now.properties) changes.push(...breakingChanges(old, now, at(name)));
  }

  const wasRequired = new Set(previous.required ?? []);
  for (const name of next.required ?? []) {
    if (wasRequired.has(name)) continue;
    if (after[name]?.default === undefined) {
      changes.push(`${at(name)}: ${before[name] ? 'became required' : 'added as required'} without a default`);
    }
  }

  if (previous.additionalProperties !== false && next.additionalProperties === false) {
    changes.push(`${path || '(root)'}: additional properties are no longer allowed`);
  }
  return changes;
}

/** A comparable spelling of a property's `type`: `["null","string"]` and `["string","null"]` are the same. */
function typesOf(schema: JsonSchema): string {
  const t = schema.type;
  return (Array.isArray(t) ? [...t] : t === undefined ? [] : [t as string]).sort().join('|');
}
