import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext } from '@nestjs/microservices';
import { OrderPlacedPayload, Topics } from '../events';
import { EventConsumer } from '../messaging/consumer/event-consumer.service';
import { OrdersService } from './orders.service';

@Controller()
export class OrdersEventsController {
  constructor(
    private readonly consumer: EventConsumer,
    private readonly orders: OrdersService,
  ) {}

  /** Enrichment: every placed order, Nestream's or an outside producer's, gets its customer's data. */
  @EventPattern(Topics.OrderPlaced)
  enrich(@Ctx() ctx: KafkaContext): Promise<void> {
    return this.consumer.handle<OrderPlacedPayload>('orders.enrichment', 'order_placed', ctx, (event, em) => this.orders.enrich(em, event));
  }
}
