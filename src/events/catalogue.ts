import { examplesOf } from './schemas';
import type { CurrentPayloads } from './schemas/index.generated';

/**
 * The one list of event types: the entity each belongs to and what it means. Its shape is its JSON
 * Schema, `schemas/<type>/v<N>.json` (the highest version is what producers write); its topic is its
 * name; its example is the schema's last `examples` entry. Producers and consumers import from here;
 * topic names never appear as literals elsewhere.
 */
export const EVENT_CATALOGUE = {
  user_created: {
    entity: 'user',
    description: 'A user was created (over HTTP, an inbound webhook or an outside producer).',
  },
  user_updated: {
    entity: 'user',
    description: "A user's name or email changed.",
  },
  user_deleted: {
    entity: 'user',
    description: 'A user was deleted; the value is its last state.',
  },
  order_placed: {
    entity: 'order',
    description: 'An order was placed.',
  },
  order_updated: {
    entity: 'order',
    description: "An order's status moved along placed → paid → shipped.",
  },
  order_cancelled: {
    entity: 'order',
    description: 'An order was cancelled before it shipped.',
  },
  anomaly_detected: {
    entity: 'anomaly',
    description: 'The analytics module saw an anomaly: an outlying order amount, too many orders in a minute, or a burst of cancellations.',
  },
  'webhook.disabled': {
    entity: 'webhook',
    description: 'Nestream disabled a webhook subscription: its endpoint answered 410 Gone, or nothing succeeded for WEBHOOK_DISABLE_AFTER_HOURS.',
  },
} as const satisfies Record<string, { entity: string; description: string }>;

export type EventType = keyof typeof EVENT_CATALOGUE;
export type EntityType = (typeof EVENT_CATALOGUE)[EventType]['entity'];

/** The CloudEvents source path of each entity's events (`ce_source` = EVENT_SOURCE + this). */
export const SOURCE_PATH: Record<EntityType, string> = {
  user: '/users',
  order: '/orders',
  anomaly: '/anomalies',
  webhook: '/webhooks',
};

/** The payload of an event type at its current schema version; fails to compile for a type without a schema file. */
export type EventPayload<T extends EventType> = CurrentPayloads[T];

export const EVENT_TYPES = Object.keys(EVENT_CATALOGUE) as EventType[];

/** Topic names, as in the origin document: one topic per event type. */
export const Topics = {
  UserCreated: 'user_created',
  UserUpdated: 'user_updated',
  UserDeleted: 'user_deleted',
  OrderPlaced: 'order_placed',
  OrderUpdated: 'order_updated',
  OrderCancelled: 'order_cancelled',
  AnomalyDetected: 'anomaly_detected',
  WebhookDisabled: 'webhook.disabled',
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

/** A valid payload of the type's current version: the last example in its schema file. */
export function exampleOf<T extends EventType>(type: T): EventPayload<T> {
  const examples = examplesOf(type);
  return examples[examples.length - 1] as EventPayload<T>;
}
