import type { FromSchema } from 'json-schema-to-ts';

/**
 * Wire contract of the user topics. The origin document's producers write `{"id": 11, "name": "King"}`,
 * so only those two fields are required; Nestream's own events carry the whole entity (a superset).
 */
export const userSchema = {
  $id: 'urn:nestream:schema:user:1',
  type: 'object',
  required: ['id', 'name'],
  properties: {
    id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    name: { type: 'string', minLength: 1, maxLength: 200 },
    email: { type: ['string', 'null'], maxLength: 320 },
    version: { type: 'integer', minimum: 1 },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
  additionalProperties: true,
} as const;

/** A deletion only needs the id; Nestream sends the last known state. */
export const userDeletedSchema = {
  $id: 'urn:nestream:schema:user_deleted:1',
  type: 'object',
  required: ['id'],
  properties: userSchema.properties,
  additionalProperties: true,
} as const;

export type UserEventPayload = FromSchema<typeof userSchema>;
export type UserDeletedPayload = FromSchema<typeof userDeletedSchema>;

export const userExample = {
  id: 11,
  name: 'King',
  email: 'king@example.com',
  version: 1,
  createdAt: '2026-11-25T10:00:00.000Z',
  updatedAt: '2026-11-25T10:00:00.000Z',
} satisfies UserEventPayload;
