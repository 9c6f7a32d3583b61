import 'reflect-metadata';
import { PATTERN_METADATA } from '@nestjs/microservices/constants';
import { EVENT_TYPES, topicOf } from '../events';
import { WebhooksEventsController } from './webhooks.events.controller';

describe('WebhooksEventsController', () => {
  const patterns = Object.getOwnPropertyNames(WebhooksEventsController.prototype)
    .map((name) => Reflect.getMetadata(PATTERN_METADATA, (WebhooksEventsController.prototype as unknown as Record<string, object>)[name]))
    .filter(Boolean)
    .flat();

  it.each(EVENT_TYPES)('fans out %s (a new catalogue type needs a handler here)', (type) => {
    expect(patterns).toContain(topicOf(type));
  });

  it('has one handler per topic, so an event is never fanned out twice', () => {
    expect(new Set(patterns).size).toBe(patterns.length);
  });
});
