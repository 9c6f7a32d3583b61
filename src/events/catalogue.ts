import { orderExample, orderSchema } from './order.events';
import { userDeletedSchema, userExample, userSchema } from './user.events';

/**
 * The one place an event type is defined: its topic, the entity it belongs to, its JSON Schema and
 * an example. Producers and consumers import from here; topic names never appear as literals elsewhere.
 */
export const EVENT_CATALOGUE = {
  user_created: {
    entity: 'user',
    description: 'A user was created (over HTTP, an inbound webhook or an outside producer).',
    schema: userSchema,
    example: userExample,
  },
  user_updated: {
    entity: 'user',
    description: "A user's name or email changed.",
    schema: userSchema,
    example: { ...userExample, name: 'King Arthur', version: 2 },
  },
  user_deleted: {
    entity: 'user',
    description: 'A user was deleted; the value is its last state.',
    schema: userDeletedSchema,
    example: { ...userExample, version: 3 },
  },
  order_placed: {
    entity: 'order',
    description: 'An order was placed.',
    schema: orderSchema,
    example: orderExample,
  },
  order_updated: {
    entity: 'order',
    description: "An order's status moved along placed → paid → shipped.",
    schema: orderSchema,
    example: { ...orderExample, status: 'paid', version: 2 },
  },
  order_cancelled: {
    entity: 'order',
    description: 'An order was cancelled before it shipped.',
    schema: orderSchema,
    example: { ...orderExample, status: 'cancelled', version: 2 },
  },
} as const;

export type EventType = keyof typeof EVENT_CATALOGUE;
export type EntityType = (typeof EVENT_CATALOGUE)[EventType]['entity'];

export const EVENT_TYPES = Object.keys(EVENT_CATALOGUE) as EventType[];

/** Topic names, as in the origin document: one topic per event type. */
export const Topics = {
  UserCreated: 'user_created',
  UserUpdated: 'user_updated',
  UserDeleted: 'user_deleted',
  OrderPlaced: 'order_placed',
  OrderUpdated: 'order_updated',
  OrderCancelled: 'order_cancelled',
} as const satisfies Record<string, EventType>;

export function topicOf(type: EventType): string {
  return type;
}

/** Where a message that cannot be processed is set aside. */
export function deadLetterTopicOf(topic: string): string {
  return `${topic}.dlq`;
}

export function isEventType(value: string): value is EventType {
  return Object.prototype.hasOwnProperty.call(EVENT_CATALOGUE, value);
}
