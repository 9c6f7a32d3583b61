import { Module } from '@nestjs/common';
import { MessagingModule } from '../messaging/messaging.module';
import { PersistenceModule } from '../persistence/persistence.module';
import { DeliveriesRepository } from './deliveries/deliveries.repository';
import { DeliveriesService } from './deliveries/deliveries.service';
import { FanOutService } from './deliveries/fan-out.service';
import { DeliveryQueue } from './dispatch/delivery-queue';
import { WebhookDispatcher } from './dispatch/webhook-dispatcher.service';
import { WebhookSender } from './dispatch/webhook-sender';
import { EventTypesHttpController } from './event-types.http.controller';
import { InboundWebhooksHttpController } from './inbound/inbound-webhooks.http.controller';
import { InboundWebhooksRepository } from './inbound/inbound-webhooks.repository';
import { InboundWebhooksService } from './inbound/inbound-webhooks.service';
import { InboundSignatureGuard } from './inbound/inbound-signature.guard';
import { WebhookMaintenance } from './maintenance/webhook-maintenance.service';
import { SubscriptionDisabler } from './subscriptions/subscription-disabler.service';
import { SubscriptionsRepository } from './subscriptions/subscriptions.repository';
import { SubscriptionsService } from './subscriptions/subscriptions.service';
import { WebhookDeliveriesHttpController } from './webhook-deliveries.http.controller';
import { WebhooksEventsController } from './webhooks.events.controller';
import { WebhooksHttpController } from './webhooks.http.controller';

const httpControllers = [WebhooksHttpController, WebhookDeliveriesHttpController, EventTypesHttpController, InboundWebhooksHttpController];
const messageControllers = [WebhooksEventsController];
const useCases = [SubscriptionsService, SubscriptionDisabler, DeliveriesService, FanOutService, InboundWebhooksService];
const repositories = [SubscriptionsRepository, DeliveriesRepository, InboundWebhooksRepository];
const delivery = [DeliveryQueue, WebhookSender, WebhookDispatcher, WebhookMaintenance];

/**
 * Outbound webhooks (subscriptions, fan-out of every domain event, the dispatcher and its delivery log)
 * and inbound webhooks. Reacts to events only: no other module imports this one.
 */
@Module({
  imports: [PersistenceModule, MessagingModule],
  controllers: [...httpControllers, ...messageControllers],
  providers: [...useCases, ...repositories, ...delivery, InboundSignatureGuard],
})
export class WebhooksModule {}
