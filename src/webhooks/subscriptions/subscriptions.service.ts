import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { appConfig, AppConfig } from '../../config/app.config';
import { retryOnDeadlock } from '../../common/db-errors';
import { ConflictError, EntityNotFoundError } from '../../common/errors';
import { Page, toPage } from '../../common/http/page';
import { outgoingTraceparent } from '../../common/tracing/trace-context';
import { DeliveriesRepository } from '../deliveries/deliveries.repository';
import { TEST_EVENT_TYPE, webhookBody } from '../deliveries/delivery';
import { CreateSubscriptionDto, PatchSubscriptionDto } from '../dto/subscription.request.dto';
import { checkTargetUrl } from '../security/target-guard';
import { generateSecret } from '../security/signing';
import { InvalidWebhookTargetError } from '../webhook-errors';
import { WebhookDispatcher } from '../dispatch/webhook-dispatcher.service';
import { ALL_EVENTS, Subscription, SubscriptionWithSecret, toSubscription } from './subscription';
import { SubscriptionsRepository } from './subscriptions.repository';

/** Subscription use cases behind `/webhooks`: register, read, change, delete, rotate the secret, send a test. */
@Injectable()
export class SubscriptionsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly subscriptions: SubscriptionsRepository,
    private readonly deliveries: DeliveriesRepository,
    private readonly dispatcher: WebhookDispatcher,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  async create(dto: CreateSubscriptionDto): Promise<SubscriptionWithSecret> {
    await this.checkTarget(dto.url);
    const secret = dto.secret ?? generateSecret();
    const row = await this.subscriptions.insert(this.dataSource.manager, {
      url: dto.url,
      events: normaliseEvents(dto.events),
      description: dto.description ?? null,
      secret,
    });
    return { ...toSubscription(row), secret };
  }

  async get(id: number): Promise<Subscription> {
    const row = await this.subscriptions.find(this.dataSource.manager, id);
    if (!row) throw new EntityNotFoundError('webhook', id);
    return toSubscription(row);
  }

  async list(limit: number, after = 0): Promise<Page<Subscription>> {
    const rows = await this.subscriptions.list(this.dataSource.manager, limit + 1, after);
    return toPage(rows.map(toSubscription), limit);
  }

  async update(id: number, dto: PatchSubscriptionDto): Promise<Subscription> {
    if (dto.url !== undefined) await this.checkTarget(dto.url);
    const row = await this.subscriptions.update(this.dataSource.manager, id, {
      url: dto.url,
      events: dto.events && normaliseEvents(dto.events),
      description: dto.description,
      enabled: dto.enabled,
    });
    if (!row) throw new EntityNotFoundError('webhook', id);
    // Re-enabling may have made waiting deliveries due.
    if (dto.enabled) this.dispatcher.wake();
    return toSubscription(row);
  }

  /**
   * Deletes the subscription with its delivery log; a request already in flight still completes. The
   * delete locks the subscription, then (cascading) its deliveries, while recording a result locks
   * deliveries, then their subscription: when the two meet, Postgres aborts one, and the delete is
   * simply run again.
   */
  async remove(id: number): Promise<void> {
    const removed = await retryOnDeadlock(() => this.subscriptions.remove(this.dataSource.manager, id));
    if (!removed) throw new EntityNotFoundError('webhook', id);
  }

  async rotateSecret(id: number, given?: string): Promise<SubscriptionWithSecret> {
    const secret = given ?? generateSecret();
    const row = await this.subscriptions.rotateSecret(this.dataSource.manager, id, secret, this.config.webhooks.secretGraceMs);
    if (!row) throw new EntityNotFoundError('webhook', id);
    return { ...toSubscription(row), secret };
  }

  /** Queues a `webhook.test` delivery to this subscription only; it goes through the same dispatcher. */
  async sendTest(id: number): Promise<{ deliveryId: number }> {
    const deliveryId = await this.dataSource.transaction(async (em) => {
      const row = await this.subscriptions.find(em, id);
      if (!row) throw new EntityNotFoundError('webhook', id);
      if (!row.enabled) throw new ConflictError(`webhook ${id} is disabled; enable it before testing`, 'enabled');
      const eventId = `test:${randomUUID()}`;
      const body = webhookBody(TEST_EVENT_TYPE, new Date(), {
        subscriptionId: id,
        message: 'A test event from Nestream: if you can read this, your endpoint receives webhooks.',
      });
      return this.deliveries.insertTest(em, id, { eventId, body, traceparent: outgoingTraceparent() });
    });
    this.dispatcher.wake();
    return { deliveryId };
  }

  private async checkTarget(url: string): Promise<void> {
    const check = await checkTargetUrl(url, this.config.webhooks.allowPrivateTargets);
    if (!check.ok) throw new InvalidWebhookTargetError(check.reason);
  }
}

/** Sorted and without repeats; `*` stands alone, since it already means every type. */
function normaliseEvents(events: string[]): string[] {
  return events.includes(ALL_EVENTS) ? [ALL_EVENTS] : [...new Set(events)].sort();
}
