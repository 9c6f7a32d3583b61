import { readFileSync } from 'node:fs';
import { EVENT_TYPES, exampleOf } from './catalogue';
import { validateEventPayload } from './event-validator';
import { readSchemaDir, renderSchemaIndex, SCHEMA_INDEX_PATH } from './schema-codegen';
import { currentSchemaVersion, parseSchemaUrn, schemaOf, schemaTypes, schemaUrn } from './schemas';

describe('event schema files', () => {
  it('are what schemas/index.generated.ts was generated from (else run "npm run schemas:generate")', () => {
    expect(readFileSync(SCHEMA_INDEX_PATH, 'utf8')).toBe(renderSchemaIndex(readSchemaDir()));
  });

  it('exist for exactly the event types of the catalogue', () => {
    expect(schemaTypes()).toEqual([...EVENT_TYPES].sort());
  });

  it.each(EVENT_TYPES)("name %s and its version in each file's $id", (type) => {
    const version = currentSchemaVersion(type);

    expect(schemaOf(type, version)!.$id).toBe(`urn:nestream:schema:${type}:${version}`);
  });

  it.each(EVENT_TYPES)('give %s an example of its current version', (type) => {
    expect(validateEventPayload(type, exampleOf(type))).toEqual({ valid: true });
  });

  it('makes user_created version 2 the current version', () => {
    expect(currentSchemaVersion('user_created')).toBe(2);
  });
});

describe('schema URNs', () => {
  it('round-trip type and version', () => {
    expect(parseSchemaUrn(schemaUrn('user_created', 2))).toEqual({ type: 'user_created', version: 2 });
  });

  it.each(['urn:nestream:schema:user_created', 'urn:nestream:schema:user_created:0', 'urn:other:user_created:1', 'https://example.com/s.json', ''])(
    'does not read %j as a schema URN',
    (text) => {
      expect(parseSchemaUrn(text)).toBeUndefined();
    },
  );
});
