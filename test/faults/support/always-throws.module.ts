import { Controller, Module } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext } from '@nestjs/microservices';
import { OrderPlacedPayload, Topics } from '../../../src/events';
import { EventConsumer } from '../../../src/messaging/consumer/event-consumer.service';
import { ConsumerGroups, inGroup } from '../../../src/messaging/kafka/consumer-groups';
import { MessagingModule } from '../../../src/messaging/messaging.module';

/** The consumer name its inbox rows and dead letters carry. */
export const ALWAYS_THROWS = 'faults.always-throws';

/**
 * A consumer with a bug: its effect throws for every order_placed. It goes through the real shared
 * pipeline (`EventConsumer.handle`) exactly like the product's handlers, so the test sees the product's
 * bounded retries and dead-lettering, not test code. Only the fault tests load it (createApp's extra modules).
 */
@Controller()
class AlwaysThrowsEventsController {
  constructor(private readonly consumer: EventConsumer) {}

  // In the ingest consumer's group, so its failures share every chunk with working handlers.
  @EventPattern(Topics.OrderPlaced, inGroup(ConsumerGroups.Persistence))
  orderPlaced(@Ctx() ctx: KafkaContext): Promise<void> {
    return this.consumer.handle<OrderPlacedPayload>(ALWAYS_THROWS, 'order_placed', ctx, async (event) => {
      throw new Error(`${ALWAYS_THROWS} cannot handle order ${event.payload.id}`);
    });
  }
}

@Module({ imports: [MessagingModule], controllers: [AlwaysThrowsEventsController] })
export class AlwaysThrowsModule {}
