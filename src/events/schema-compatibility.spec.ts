import { EVENT_TYPES } from './catalogue';
import { breakingChanges } from './schema-compatibility';
import { JsonSchema, schemaOf, schemaVersions } from './schemas';

/** A small schema in the repository's style, with overrides per test. */
function schema(properties: JsonSchema['properties'], required: string[] = ['id'], extra: Partial<JsonSchema> = {}): JsonSchema {
  return { type: 'object', required, properties, additionalProperties: true, ...extra };
}

const v1 = schema({
  id: { type: 'integer' },
  name: { type: 'string' },
  email: { type: ['string', 'null'] },
  status: { type: 'string', enum: ['placed', 'paid'] },
  createdAt: { type: 'string', format: 'date-time' },
});

describe('breakingChanges', () => {
  it('accepts an identical schema', () => {
    expect(breakingChanges(v1, v1)).toEqual([]);
  });

  it('accepts a new optional field', () => {
    expect(breakingChanges(v1, schema({ ...v1.properties, nickname: { type: 'string' } }))).toEqual([]);
  });

  it('accepts a new required field that has a default', () => {
    expect(breakingChanges(v1, schema({ ...v1.properties, locale: { type: 'string', default: 'en' } }, ['id', 'locale']))).toEqual([]);
  });

  it('accepts an optional field becoming required with a default', () => {
    const next = schema({ ...v1.properties, email: { type: ['string', 'null'], default: null } }, ['id', 'email']);

    expect(breakingChanges(v1, next)).toEqual([]);
  });

  it('accepts the same types listed in another order, and a new enum value', () => {
    const next = schema({
      ...v1.properties,
      email: { type: ['null', 'string'] },
      status: { type: 'string', enum: ['placed', 'paid', 'shipped'] },
    });

    expect(breakingChanges(v1, next)).toEqual([]);
  });

  it('catches a removed field', () => {
    const { name: _removed, ...rest } = v1.properties!;

    expect(breakingChanges(v1, schema(rest))).toEqual(['name: removed']);
  });

  it('catches a retyped field', () => {
    expect(breakingChanges(v1, schema({ ...v1.properties, id: { type: 'string' } }))).toEqual(['id: type changed from integer to string']);
  });

  it('catches a field that may no longer be null', () => {
    expect(breakingChanges(v1, schema({ ...v1.properties, email: { type: 'string' } }))).toEqual([
      'email: type changed from null|string to string',
    ]);
  });

  it('catches a changed format', () => {
    expect(breakingChanges(v1, schema({ ...v1.properties, createdAt: { type: 'string', format: 'date' } }))).toEqual([
      'createdAt: format changed from date-time to date',
    ]);
  });

  it('catches an enum that lost a value', () => {
    expect(breakingChanges(v1, schema({ ...v1.properties, status: { type: 'string', enum: ['placed'] } }))).toEqual(['status: enum lost "paid"']);
  });

  it('catches a new required field without a default', () => {
    expect(breakingChanges(v1, schema({ ...v1.properties, locale: { type: 'string' } }, ['id', 'locale']))).toEqual([
      'locale: added as required without a default',
    ]);
  });

  it('catches an optional field becoming required without a default', () => {
    expect(breakingChanges(v1, schema(v1.properties, ['id', 'name']))).toEqual(['name: became required without a default']);
  });

  it('catches a schema that closes itself to additional properties', () => {
    expect(breakingChanges(v1, schema(v1.properties, ['id'], { additionalProperties: false }))).toEqual([
      '(root): additional properties are no longer allowed',
    ]);
  });

  it('checks nested objects field by field', () => {
    const before = schema({ address: { type: 'object', properties: { city: { type: 'string' } } } });
    const after = schema({ address: { type: 'object', properties: { city: { type: 'integer' } } } });

    expect(breakingChanges(before, after)).toEqual(['address.city: type changed from string to integer']);
  });

  it('lists every breaking change at once', () => {
    expect(breakingChanges(v1, schema({ id: { type: 'number' } }, ['id', 'zip']))).toHaveLength(6);
  });
});

describe("the repository's event schemas", () => {
  const pairs = EVENT_TYPES.flatMap((type) =>
    schemaVersions(type)
      .slice(1)
      .map((version) => [type, version - 1, version] as const),
  );

  it('include at least one event type with a version 2', () => {
    expect(pairs.length).toBeGreaterThan(0);
  });

  // What a schema registry checks on registration: each version is a compatible successor of the last.
  it.each(pairs)('%s version %d → %d breaks no consumer', (type, previous, next) => {
    expect(breakingChanges(schemaOf(type, previous)!, schemaOf(type, next)!)).toEqual([]);
  });
});
