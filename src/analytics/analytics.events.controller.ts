import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext } from '@nestjs/microservices';
import { OrderEventPayload, Topics } from '../events';
import { EventConsumer } from '../messaging/consumer/event-consumer.service';
import { AnomalyPublisher } from './anomaly-publisher.service';
import { OrderAggregator } from './order-aggregator.service';
import { ConsumerGroups, inGroup } from '../messaging/kafka/consumer-groups';

const CONSUMER = 'analytics';

/** Order events into the windowed aggregates, through the shared pipeline (exactly once per event). */
@Controller()
export class AnalyticsEventsController {
  constructor(
    private readonly consumer: EventConsumer,
    private readonly aggregator: OrderAggregator,
    private readonly anomalies: AnomalyPublisher,
  ) {}

  @EventPattern(Topics.OrderPlaced, inGroup(ConsumerGroups.Analytics))
  async orderPlaced(@Ctx() ctx: KafkaContext): Promise<void> {
    await this.consumer.handle<OrderEventPayload>(CONSUMER, 'order_placed', ctx, (e, em) => this.aggregator.orderPlaced(em, e));
    // After the commit, so the publisher sees any anomaly the event raised.
    if (this.aggregator.raised.take()) this.anomalies.wake();
  }

  @EventPattern(Topics.OrderCancelled, inGroup(ConsumerGroups.Analytics))
  async orderCancelled(@Ctx() ctx: KafkaContext): Promise<void> {
    await this.consumer.handle<OrderEventPayload>(CONSUMER, 'order_cancelled', ctx, (e, em) => this.aggregator.orderCancelled(em, e));
    if (this.aggregator.raised.take()) this.anomalies.wake();
  }
}
