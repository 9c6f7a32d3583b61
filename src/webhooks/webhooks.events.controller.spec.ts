import 'reflect-metadata';
import { PATTERN_METADATA } from '@nestjs/microservices/constants';
import { EVENT_TYPES, topicOf } from '../events';
import type { KafkaContext } from '@nestjs/microservices';
import type { EntityManager } from 'typeorm';
import type { AppConfig } from '../config/app.config';
import type { EventConsumer } from '../messaging/consumer/event-consumer.service';
import { openBeforeCommit, runBeforeCommit } from '../persistence/transaction-hooks';
import type { DeliveriesRepository } from './deliveries/deliveries.repository';
import { FanOutService } from './deliveries/fan-out.service';
import type { WebhookDispatcher } from './dispatch/webhook-dispatcher.service';
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

describe('WebhooksEventsController: waking the dispatcher', () => {
  /** The consumer pipeline's part that matters here: the effect, then the before-commit work, then "committed". */
  const consumer = {
    handle: async (_name: string, type: string, _ctx: unknown, effect: (event: unknown, em: EntityManager) => Promise<void>) => {
      const em = {} as EntityManager;
      openBeforeCommit(em);
      await effect({ type, id: `evt-${type}`, payload: { id: 1 }, key: '1', metadata: {}, occurredAt: new Date() }, em);
      await runBeforeCommit(em);
    },
  };

  function setUp(inserted: number[]) {
    const deliveries = { fanOut: jest.fn(async () => inserted.shift() ?? 0) };
    const config = { webhooks: { retry: { scheduleMs: [0], jitterPercent: 0 } } };
    const fanOut = new FanOutService(deliveries as unknown as DeliveriesRepository, config as unknown as AppConfig);
    const dispatcher = { wake: jest.fn() };
    const controller = new WebhooksEventsController(consumer as unknown as EventConsumer, fanOut, dispatcher as unknown as WebhookDispatcher);
    return { controller, deliveries, dispatcher };
  }
  const ctx = {} as KafkaContext;

  it('wakes it after a batch that queued deliveries', async () => {
    const { controller, dispatcher, deliveries } = setUp([2]);
    await controller.orderPlaced(ctx);
    expect(deliveries.fanOut).toHaveBeenCalledTimes(1);
    expect(dispatcher.wake).toHaveBeenCalledTimes(1);
  });

  it('leaves it asleep after a batch that matched no subscription (its claim would find nothing)', async () => {
    const { controller, dispatcher, deliveries } = setUp([0, 0]);
    await controller.orderPlaced(ctx);
    await controller.userCreated(ctx);
    expect(deliveries.fanOut).toHaveBeenCalledTimes(2);
    expect(dispatcher.wake).not.toHaveBeenCalled();
  });
});
