import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext } from '@nestjs/microservices';
import { OrderEventPayload, Topics, UserEventPayload } from '../../events';
import { EventConsumer } from '../../messaging/consumer/event-consumer.service';
import { IngestService } from './ingest.service';

const CONSUMER = 'persistence.ingest';

@Controller()
export class IngestEventsController {
  constructor(
    private readonly consumer: EventConsumer,
    private readonly ingest: IngestService,
  ) {}

  @EventPattern(Topics.UserCreated)
  userCreated(@Ctx() ctx: KafkaContext): Promise<void> {
    return this.consumer.handle<UserEventPayload>(CONSUMER, 'user_created', ctx, (e, em) => this.ingest.ingestUser(em, e));
  }

  @EventPattern(Topics.UserUpdated)
  userUpdated(@Ctx() ctx: KafkaContext): Promise<void> {
    return this.consumer.handle<UserEventPayload>(CONSUMER, 'user_updated', ctx, (e, em) => this.ingest.ingestUser(em, e));
  }

  @EventPattern(Topics.OrderPlaced)
  orderPlaced(@Ctx() ctx: KafkaContext): Promise<void> {
    return this.consumer.handle<OrderEventPayload>(CONSUMER, 'order_placed', ctx, (e, em) => this.ingest.ingestOrder(em, e));
  }
}
