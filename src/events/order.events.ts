import type { FromSchema } from 'json-schema-to-ts';

export const ORDER_STATUSES = ['placed', 'paid', 'shipped', 'cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Largest amount NUMERIC(15,2) holds; below 2^53, so a JSON number carries it exactly. */
export const MAX_AMOUNT = 9_999_999_999_999.99;

/**
 * Wire contract of the order topics. The origin document writes `{"id": 11, "product": "sofa",
 * "amount": 100000}`; an outside order may lack `userId`. Amounts have at most two decimals.
 */
export const orderSchema = {
  $id: 'urn:nestream:schema:order:1',
  type: 'object',
  required: ['id', 'product', 'amount'],
  properties: {
    id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    userId: { type: ['integer', 'null'], minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    product: { type: 'string', minLength: 1, maxLength: 200 },
    amount: { type: 'number', minimum: 0, maximum: MAX_AMOUNT, multipleOf: 0.01 },
    quantity: { type: 'integer', minimum: 1, maximum: 1_000_000 },
    status: { type: 'string', enum: ORDER_STATUSES },
    version: { type: 'integer', minimum: 1 },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
  additionalProperties: true,
} as const;

export type OrderEventPayload = FromSchema<typeof orderSchema>;

export const orderExample = {
  id: 11,
  userId: 11,
  product: 'sofa',
  amount: 100000,
  quantity: 1,
  status: 'placed',
  version: 1,
  createdAt: '2026-11-25T10:00:00.000Z',
  updatedAt: '2026-11-25T10:00:00.000Z',
} satisfies OrderEventPayload;
