import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ConflictError, EntityNotFoundError } from '../../common/errors';
import { Page, toPage } from '../../common/http/page';
import { WebhookDispatcher } from '../dispatch/webhook-dispatcher.service';
import { ListDeliveriesQuery } from '../dto/delivery.request.dto';
import { SubscriptionsRepository } from '../subscriptions/subscriptions.repository';
import { DeliveriesRepository } from './deliveries.repository';
import { DeliveryDetail, DeliverySummary, toAttempt, toDeliverySummary } from './delivery';

/** The delivery log of a subscription, and re-sending from it (one delivery, or every failure since a time). */
@Injectable()
export class DeliveriesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly deliveries: DeliveriesRepository,
    private readonly subscriptions: SubscriptionsRepository,
    private readonly dispatcher: WebhookDispatcher,
  ) {}

  /** Newest first. */
  async list(subscriptionId: number, query: ListDeliveriesQuery): Promise<Page<DeliverySummary>> {
    const em = this.dataSource.manager;
    await this.requireSubscription(em, subscriptionId);
    const rows = await this.deliveries.list(em, subscriptionId, query.status, query.limit + 1, query.after || undefined);
    return toPage(rows.map(toDeliverySummary), query.limit);
  }

  async get(subscriptionId: number, deliveryId: number): Promise<DeliveryDetail> {
    const em = this.dataSource.manager;
    await this.requireSubscription(em, subscriptionId);
    const row = await this.deliveries.find(em, subscriptionId, deliveryId);
    if (!row) throw new EntityNotFoundError('delivery', deliveryId);
    const attempts = await this.deliveries.attempts(em, deliveryId);
    return {
      ...toDeliverySummary(row),
      payload: row.body === null ? null : JSON.parse(row.body),
      payloadPurgedAt: row.payload_purged_at?.toISOString() ?? null,
      attempts: attempts.map(toAttempt),
    };
  }

  /**
   * Sends a delivery again now, with a fresh run of the retry schedule: a failed one, a pending one
   * waiting for its next attempt, or a succeeded one (a resend, same webhook-id).
   */
  async retry(subscriptionId: number, deliveryId: number): Promise<DeliverySummary> {
    await this.dataSource.transaction(async (em) => {
      await this.requireEnabled(em, subscriptionId);
      const state = await this.deliveries.lockForRequeue(em, subscriptionId, deliveryId);
      if (!state) throw new EntityNotFoundError('delivery', deliveryId);
      if (state.purged) throw new ConflictError(`delivery ${deliveryId} cannot be re-sent: its payload was purged by retention`);
      if (state.inFlight) throw new ConflictError(`delivery ${deliveryId} is being sent right now`);
      await this.deliveries.requeue(em, deliveryId);
    });
    this.dispatcher.wake();
    const row = await this.deliveries.find(this.dataSource.manager, subscriptionId, deliveryId);
    return toDeliverySummary(row!);
  }

  /** Re-queues every failed delivery created since `since` (payloads purged by retention cannot be re-sent). */
  async recover(subscriptionId: number, since: Date): Promise<{ requeued: number; purged: number }> {
    const result = await this.dataSource.transaction(async (em) => {
      await this.requireEnabled(em, subscriptionId);
      return this.deliveries.recover(em, subscriptionId, since);
    });
    if (result.requeued > 0) this.dispatcher.wake();
    return result;
  }

  private async requireSubscription(em: EntityManager, id: number) {
    const row = await this.subscriptions.find(em, id);
    if (!row) throw new EntityNotFoundError('webhook', id);
    return row;
  }

  /** Re-sending to a disabled subscription would only queue: ask for it to be enabled first. */
  private async requireEnabled(em: EntityManager, id: number): Promise<void> {
    const row = await this.requireSubscription(em, id);
    if (!row.enabled) throw new ConflictError(`webhook ${id} is disabled; enable it (PATCH {"enabled": true}) before re-sending`, 'enabled');
  }
}
