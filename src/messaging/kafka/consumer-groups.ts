import type { INestApplicationContext } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { PATTERN_EXTRAS_METADATA } from '@nestjs/microservices/constants';

/**
 * The Kafka consumer groups the app's consumers run in (`<KAFKA_GROUP_ID>.<name>`, see consumerGroupId).
 * Each module consumes in a group of its own, as separate services would: a slow or failing consumer
 * (the analytics fold, a database error in one module) holds back its own group's position only, never
 * another group's next fetch. Consumers in one group get each chunk side by side, and the group moves on
 * once all of them are done with it.
 */
export const ConsumerGroups = {
  /** The ingest consumer, and the orders' enrichment: it reads the outside orders and users the ingest consumer stores, so it must never run ahead of it. */
  Persistence: 'persistence',
  Webhooks: 'webhooks',
  Live: 'live',
  Analytics: 'analytics',
} as const;

/** The Kafka group id of one of the app's groups. */
export function consumerGroupId(base: string, group: string): string {
  return `${base}.${group}`;
}

/** The Kafka group ids of these groups (by default the app's own). */
export function consumerGroupIds(base: string, groups: readonly string[] = Object.values(ConsumerGroups)): string[] {
  return groups.map((group) => consumerGroupId(base, group));
}

/** `@EventPattern` extras that name the handler's consumer group: `@EventPattern(topic, inGroup(ConsumerGroups.Analytics))`. */
export function inGroup(group: string): HandlerExtras {
  return { group };
}

export interface HandlerExtras {
  group?: string;
}

/**
 * The groups the app's `@EventPattern` and `@MessagePattern` handlers name, in the order Nest found
 * their controllers: one Kafka transport (one kafkajs consumer) is started for each.
 */
export function consumerGroupsOf(app: INestApplicationContext): string[] {
  const found = new Set<string>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const prototype = (wrapper.metatype as { prototype?: object } | null)?.prototype;
      if (!prototype) continue;
      for (const key of Object.getOwnPropertyNames(prototype)) {
        // The descriptor, not prototype[key]: reading a getter would run it.
        const method: unknown = Object.getOwnPropertyDescriptor(prototype, key)?.value;
        if (typeof method !== 'function') continue;
        const extras = Reflect.getMetadata(PATTERN_EXTRAS_METADATA, method) as HandlerExtras | undefined;
        if (extras?.group) found.add(extras.group);
      }
    }
  }
  return [...found];
}
