import { Controller, Module } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { EventEmitter } from 'node:events';
import type { Consumer } from 'kafkajs';
import { ModulesContainer } from '@nestjs/core';
import { consumerGroupId, consumerGroupIds, consumerGroupTopicsOf, inGroup } from './consumer-groups';
import { ConsumerMembership } from './consumer-membership';

@Controller()
class BaseEvents {
  @EventPattern('order_updated', inGroup('analytics'))
  inherited(_data: unknown): void {}
}

@Controller()
class FirstEvents extends BaseEvents {
  @EventPattern('order_placed', inGroup('analytics'))
  placed(_data: unknown): void {}

  @EventPattern('order_cancelled', inGroup('analytics'))
  cancelled(_data: unknown): void {}

  get notAHandler(): string {
    throw new Error('a getter must not be read while looking for handlers');
  }
}

@Controller()
class SecondEvents {
  @EventPattern(['user_created', 'user_deleted'], inGroup('persistence'))
  created(_data: unknown): void {}

  @EventPattern('user_updated')
  ungrouped(_data: unknown): void {}
}

@Module({ controllers: [FirstEvents, SecondEvents] })
class EventsModule {}

describe('consumer groups', () => {
  it('names each group after the app-wide prefix', () => {
    expect(consumerGroupId('nestream', 'analytics')).toBe('nestream.analytics');
    expect(consumerGroupIds('nestream')).toEqual(['nestream.persistence', 'nestream.webhooks', 'nestream.live', 'nestream.analytics']);
  });

  it('finds every group the handlers name with its topics, inherited handlers too, without reading getters', async () => {
    const app = await Test.createTestingModule({ imports: [EventsModule] }).compile();
    const groups = consumerGroupTopicsOf(app.get(ModulesContainer));
    expect(Object.fromEntries([...groups].map(([group, topics]) => [group, [...topics].sort()]))).toEqual({
      analytics: ['order_cancelled', 'order_placed', 'order_updated'],
      persistence: ['user_created', 'user_deleted'],
    });
  });
});

describe('ConsumerMembership over several groups', () => {
  function fakeConsumer(): Consumer & EventEmitter {
    const emitter = new EventEmitter();
    const events = { GROUP_JOIN: 'join', REBALANCING: 'rebalancing', CRASH: 'crash', STOP: 'stop', DISCONNECT: 'disconnect' };
    return Object.assign(emitter, { events }) as unknown as Consumer & EventEmitter;
  }

  it('is a member only while every group is, and names the group that is not', () => {
    const membership = new ConsumerMembership();
    expect(membership.state).toBe('not started');
    const [persistence, analytics] = [fakeConsumer(), fakeConsumer()];
    membership.watch('persistence', persistence);
    membership.watch('analytics', analytics);
    expect(membership.state).toBe('member');

    analytics.emit('rebalancing');
    expect(membership.state).toBe('rebalancing');
    persistence.emit('crash');
    expect(membership.state).toBe('crashed');
    expect(membership.states).toEqual({ persistence: 'crashed', analytics: 'rebalancing' });

    persistence.emit('join');
    analytics.emit('join');
    expect(membership.state).toBe('member');
    expect(membership.consumerOf('analytics')).toBe(analytics);
    expect(() => membership.consumerOf('webhooks')).toThrow('no consumer of group webhooks runs here (running: persistence, analytics)');
  });
});
