/**
 * Webhook delivery health, read without importing the webhooks module: its tables are read as JSON
 * rows and classified by the columns they happen to have, so the dashboard keeps working whatever
 * shape those tables settle on (and says "not configured" while they do not exist).
 */
export interface WebhookHealth {
  configured: boolean;
  subscriptions: { total: number; healthy: number; failing: number; disabled: number } | null;
  deliveries: { succeeded: number; failed: number; pending: number } | null;
}

export const NOT_CONFIGURED: WebhookHealth = { configured: false, subscriptions: null, deliveries: null };

const DISABLED = new Set(['disabled', 'paused', 'inactive', 'suspended', 'deactivated']);
const FAILING = new Set(['failing', 'degraded', 'unhealthy', 'error']);
const SUCCEEDED = new Set(['succeeded', 'success', 'successful', 'delivered', 'ok', 'sent', 'done', 'completed']);
const FAILED = new Set(['failed', 'failure', 'failing', 'error', 'dead', 'dead_lettered', 'exhausted', 'abandoned', 'gave_up', 'disabled']);

export type SubscriptionState = 'healthy' | 'failing' | 'disabled';

export function subscriptionState(row: Record<string, unknown>): SubscriptionState {
  const status = String(row.status ?? row.state ?? '').toLowerCase();
  if (
    DISABLED.has(status) ||
    row.disabled === true ||
    row.enabled === false ||
    row.active === false ||
    (row.disabled_at != null && row.disabled_at !== '')
  ) {
    return 'disabled';
  }
  const failures = Number(row.consecutive_failures ?? row.failure_count ?? row.failures ?? row.failed_attempts ?? 0);
  const lastFailure = time(row.last_failure_at ?? row.last_failed_at);
  const lastSuccess = time(row.last_success_at ?? row.last_succeeded_at ?? row.last_delivered_at);
  const failingSince = time(row.failing_since);
  if (
    FAILING.has(status) ||
    failures > 0 ||
    failingSince !== undefined ||
    (lastFailure !== undefined && (lastSuccess === undefined || lastFailure > lastSuccess))
  ) {
    return 'failing';
  }
  return 'healthy';
}

export function deliveryState(status: string | null): 'succeeded' | 'failed' | 'pending' {
  const s = (status ?? '').toLowerCase();
  if (SUCCEEDED.has(s)) return 'succeeded';
  if (FAILED.has(s)) return 'failed';
  return 'pending';
}

export function summariseSubscriptions(rows: Record<string, unknown>[]): NonNullable<WebhookHealth['subscriptions']> {
  const counts = { total: rows.length, healthy: 0, failing: 0, disabled: 0 };
  for (const row of rows) counts[subscriptionState(row)] += 1;
  return counts;
}

export function summariseDeliveries(byStatus: { status: string | null; count: number }[]): NonNullable<WebhookHealth['deliveries']> {
  const counts = { succeeded: 0, failed: 0, pending: 0 };
  for (const { status, count } of byStatus) counts[deliveryState(status)] += Number(count);
  return counts;
}

function time(value: unknown): number | undefined {
  if (value == null || value === '') return undefined;
  const t = new Date(String(value)).getTime();
  return Number.isNaN(t) ? undefined : t;
}
