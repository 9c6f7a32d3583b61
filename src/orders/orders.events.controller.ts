import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext } from '@nestjs/microservices';
import { OrderPlacedPayload, Topics } from '../events';
import { EventConsumer, HandleOptions } from '../messaging/consumer/event-consumer.service';
import { OrdersService } from './orders.service';
import { ConsumerGroups, inGroup } from '../messaging/kafka/consumer-groups';

/**
 * An order placed without a user (the origin document's orders, most outside producers') has no
 * customer to copy: the payload alone says so, so it costs no transaction and no inbox row.
 */
const WITH_CUSTOMER: HandleOptions<OrderPlacedPayload> = { ignore: (event) => event.payload.userId == null };

@Controller()
export class OrdersEventsController {
  constructor(
    private readonly consumer: EventConsumer,
    private readonly orders: OrdersService,
  ) {}

  /** Enrichment: every placed order with a user, Nestream's or an outside producer's, gets its customer's data. */
  // In the ingest consumer's group: it reads the outside orders and users that one stores, so never gets ahead of it.
  @EventPattern(Topics.OrderPlaced, inGroup(ConsumerGroups.Persistence))
  enrich(@Ctx() ctx: KafkaContext): Promise<void> {
    return this.consumer.handle<OrderPlacedPayload>('orders.enrichment', 'order_placed', ctx, (event, em) => this.orders.enrich(em, event), WITH_CUSTOMER);
  }
}
