import { MetadataScanner, ModulesContainer } from '@nestjs/core';
import { PATTERN_EXTRAS_METADATA, PATTERN_METADATA } from '@nestjs/microservices/constants';

/**
 * The Kafka consumer groups the app's consumers run in (`<KAFKA_GROUP_ID>.<name>`, see consumerGroupId).
 * Each module consumes in a group of its own, as separate services would: a slow or failing consumer
 * (the analytics fold, a database error in one module) holds back its own group's position only, never
 * another group's next fetch. Consumers in one group get each chunk side by side, and the group moves on
 * once all of them are done with it.
 */
export const ConsumerGroups = {
  /**
   * The ingest consumer, and the orders' enrichment: it reads the outside orders and users the ingest
   * consumer stores, so it gets each chunk of order_placed beside it (its retries cover the moment until
   * the chunk is stored), never further ahead.
   */
  Persistence: 'persistence',
  Webhooks: 'webhooks',
  Live: 'live',
  Analytics: 'analytics',
} as const;

export type ConsumerGroupName = (typeof ConsumerGroups)[keyof typeof ConsumerGroups];

/** The Kafka group id of one of the app's groups. */
export function consumerGroupId(base: string, group: string): string {
  return `${base}.${group}`;
}

/** The Kafka group ids of these groups (by default the app's own). */
export function consumerGroupIds(base: string, groups: readonly string[] = Object.values(ConsumerGroups)): string[] {
  return groups.map((group) => consumerGroupId(base, group));
}

/** The groups a `KAFKA_CONSUMER_GROUPS` list names (validated in env.ts); undefined when empty: all of them. */
export function listedGroups(list: string): ConsumerGroupName[] | undefined {
  const names = list.split(',').map((g) => g.trim()).filter((g) => g.length > 0);
  return names.length > 0 ? [...new Set(names as ConsumerGroupName[])] : undefined;
}

/** `@EventPattern` extras that name the handler's consumer group: `@EventPattern(topic, inGroup(ConsumerGroups.Analytics))`. */
export function inGroup(group: ConsumerGroupName): HandlerExtras {
  return { group };
}

export interface HandlerExtras {
  group?: ConsumerGroupName;
}

/**
 * The groups the app's `@EventPattern` and `@MessagePattern` handlers name, each with the topics its
 * handlers consume, in the order Nest found their controllers: one Kafka transport (one kafkajs
 * consumer) is started for each. Read from the controllers' metadata, so every role of the app knows
 * them, whether it consumes or not.
 */
export function consumerGroupTopicsOf(modules: ModulesContainer): Map<ConsumerGroupName, string[]> {
  const scanner = new MetadataScanner();
  const groups = new Map<ConsumerGroupName, Set<string>>();
  for (const module of modules.values()) {
    for (const wrapper of module.controllers.values()) {
      const prototype = (wrapper.metatype as { prototype?: object } | null)?.prototype;
      if (!prototype) continue;
      // Nest's own walk over the prototype chain (inherited handlers too), which never reads a getter.
      for (const name of scanner.getAllMethodNames(prototype)) {
        const method = (prototype as Record<string, unknown>)[name] as object;
        const group = (Reflect.getMetadata(PATTERN_EXTRAS_METADATA, method) as HandlerExtras | undefined)?.group;
        if (!group) continue;
        const patterns = (Reflect.getMetadata(PATTERN_METADATA, method) as unknown[] | undefined) ?? [];
        const topics = groups.get(group) ?? new Set<string>();
        for (const pattern of patterns.flat()) if (typeof pattern === 'string') topics.add(pattern);
        groups.set(group, topics);
      }
    }
  }
  return new Map([...groups].map(([group, topics]) => [group, [...topics]]));
}
