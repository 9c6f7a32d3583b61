import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext } from '@nestjs/microservices';
import { EventType, Topics } from '../events';
import { EventConsumer } from '../messaging/consumer/event-consumer.service';
import { FAN_OUT_CONSUMER, FanOutService } from './deliveries/fan-out.service';
import { WebhookDispatcher } from './dispatch/webhook-dispatcher.service';
import { ConsumerGroups, inGroup } from '../messaging/kafka/consumer-groups';

/**
 * Every domain topic, fanned out to webhook subscriptions. Nest runs this handler and the other
 * modules' handlers of the same topic side by side; each has its own inbox entry.
 * A unit test fails when a catalogue event type has no handler here.
 */
@Controller()
export class WebhooksEventsController {
  constructor(
    private readonly consumer: EventConsumer,
    private readonly fanOut: FanOutService,
    private readonly dispatcher: WebhookDispatcher,
  ) {}

  @EventPattern(Topics.UserCreated, inGroup(ConsumerGroups.Webhooks))
  userCreated(@Ctx() ctx: KafkaContext): Promise<void> {
    return this.handle('user_created', ctx);
  }

  @EventPattern(Topics.UserUpdated, inGroup(ConsumerGroups.Webhooks))
  userUpdated(@Ctx() ctx: KafkaContext): Promise<void> {
    return this.handle('user_updated', ctx);
  }

  @EventPattern(Topics.UserDeleted, inGroup(ConsumerGroups.Webhooks))
  userDeleted(@Ctx() ctx: KafkaContext): Promise<void> {
    return this.handle('user_deleted', ctx);
  }

  @EventPattern(Topics.OrderPlaced, inGroup(ConsumerGroups.Webhooks))
  orderPlaced(@Ctx() ctx: KafkaContext): Promise<void> {
    return this.handle('order_placed', ctx);
  }

  @EventPattern(Topics.OrderUpdated, inGroup(ConsumerGroups.Webhooks))
  orderUpdated(@Ctx() ctx: KafkaContext): Promise<void> {
    return this.handle('order_updated', ctx);
  }

  @EventPattern(Topics.OrderCancelled, inGroup(ConsumerGroups.Webhooks))
  orderCancelled(@Ctx() ctx: KafkaContext): Promise<void> {
    return this.handle('order_cancelled', ctx);
  }

  @EventPattern(Topics.AnomalyDetected, inGroup(ConsumerGroups.Webhooks))
  anomalyDetected(@Ctx() ctx: KafkaContext): Promise<void> {
    return this.handle('anomaly_detected', ctx);
  }

  @EventPattern(Topics.WebhookDisabled, inGroup(ConsumerGroups.Webhooks))
  webhookDisabled(@Ctx() ctx: KafkaContext): Promise<void> {
    return this.handle('webhook.disabled', ctx);
  }

  private async handle(type: EventType, ctx: KafkaContext): Promise<void> {
    await this.consumer.handle<{ id?: unknown }>(FAN_OUT_CONSUMER, type, ctx, async (event, em) => this.fanOut.fanOut(em, event));
    // After the commit, any new deliveries are visible to the dispatcher's claim. A batch that queued
    // none leaves it asleep; a delivery waiting for this event's fan-out (ORDERING_WAIT_MS) then goes at
    // the dispatcher's next poll.
    if (this.fanOut.queued.take()) this.dispatcher.wake();
  }
}
