import { Injectable, Logger } from '@nestjs/common';
import type { Transaction } from '../../messaging/unit-of-work';
import { SubscriptionsRepository } from './subscriptions.repository';

/** Disables a subscription on Nestream's own initiative (410 Gone, no success for too long). */
@Injectable()
export class SubscriptionDisabler {
  private readonly logger = new Logger(SubscriptionDisabler.name);

  constructor(private readonly subscriptions: SubscriptionsRepository) {}

  /**
   * Disables the subscription and publishes `webhook.disabled` in the caller's transaction. Only the
   * caller that flips it publishes, so concurrent failures or instances emit the event once.
   */
  async disable(tx: Transaction, id: number, reason: string): Promise<boolean> {
    const row = await this.subscriptions.disable(tx.em, id, reason);
    if (!row) return false;
    const disabledAt = row.disabled_at!;
    await tx.publish({
      type: 'webhook.disabled',
      entityId: id,
      version: row.version,
      payload: {
        id,
        url: originOf(row.url),
        reason,
        failingSince: row.failing_since?.toISOString() ?? null,
        disabledAt: disabledAt.toISOString(),
        version: row.version,
      },
      occurredAt: disabledAt,
    });
    this.logger.warn(`webhook ${id} disabled: ${reason}`);
    return true;
  }
}

/**
 * The event goes wherever events go (the unauthenticated live stream, every `*` subscriber), and a
 * subscription's URL is admin-only: its path or query often is the credential (Slack- or Zapier-style
 * hook URLs). The event names the endpoint by its origin only.
 */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '[redacted]';
  }
}
