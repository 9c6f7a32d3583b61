import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext } from '@nestjs/microservices';
import { EVENT_TYPES, topicOf } from '../events';
import { EventConsumer } from '../messaging/consumer/event-consumer.service';
import { LiveFeedService } from './live-feed.service';
import { ConsumerGroups, inGroup } from '../messaging/kafka/consumer-groups';

const CONSUMER = 'live.feed';

/** Every catalogue topic into the live feed, through the shared pipeline (once per event). */
@Controller()
export class LiveEventsController {
  constructor(
    private readonly consumer: EventConsumer,
    private readonly feed: LiveFeedService,
  ) {}

  @EventPattern(EVENT_TYPES.map(topicOf), inGroup(ConsumerGroups.Live))
  async consumed(@Ctx() ctx: KafkaContext): Promise<void> {
    const type = EVENT_TYPES.find((t) => topicOf(t) === ctx.getTopic());
    if (!type) return;
    await this.consumer.handle<Record<string, unknown>>(CONSUMER, type, ctx, (e, em) => this.feed.record(em, e));
    this.feed.wake();
  }
}
