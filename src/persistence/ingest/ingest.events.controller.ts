import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext } from '@nestjs/microservices';
import { OrderEventPayload, Topics, UserEventPayload } from '../../events';
import { EventConsumer, HandleOptions } from '../../messaging/consumer/event-consumer.service';
import { IngestService } from './ingest.service';
import { ConsumerGroups, inGroup } from '../../messaging/kafka/consumer-groups';

const CONSUMER = 'persistence.ingest';

@Controller()
export class IngestEventsController {
  // Nestream's own events go by without a transaction.
  private readonly outsideOnly: HandleOptions<unknown> = { ignore: (event) => !this.ingest.handles(event) };

  constructor(
    private readonly consumer: EventConsumer,
    private readonly ingest: IngestService,
  ) {}

  @EventPattern(Topics.UserCreated, inGroup(ConsumerGroups.Persistence))
  userCreated(@Ctx() ctx: KafkaContext): Promise<void> {
    return this.consumer.handle<UserEventPayload>(CONSUMER, 'user_created', ctx, (e, em) => this.ingest.ingestUser(em, e), this.outsideOnly);
  }

  @EventPattern(Topics.UserUpdated, inGroup(ConsumerGroups.Persistence))
  userUpdated(@Ctx() ctx: KafkaContext): Promise<void> {
    return this.consumer.handle<UserEventPayload>(CONSUMER, 'user_updated', ctx, (e, em) => this.ingest.ingestUser(em, e), this.outsideOnly);
  }

  @EventPattern(Topics.OrderPlaced, inGroup(ConsumerGroups.Persistence))
  orderPlaced(@Ctx() ctx: KafkaContext): Promise<void> {
    return this.consumer.handle<OrderEventPayload>(CONSUMER, 'order_placed', ctx, (e, em) => this.ingest.ingestOrder(em, e), this.outsideOnly);
  }
}
