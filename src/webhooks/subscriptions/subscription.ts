/** `events: ["*"]` subscribes to every event type, including ones added later. */
export const ALL_EVENTS = '*';

/** A subscription as the database holds it (secrets aside: reads never select them). */
export interface SubscriptionRow {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  disabled_reason: string | null;
  disabled_at: Date | null;
  failing_since: Date | null;
  last_success_at: Date | null;
  previous_secret_expires_at: Date | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

/** A subscription as the API returns it: never with its secret. */
export interface Subscription {
  id: number;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  /** Why it was disabled (410, no success for too long, an administrator), null while enabled. */
  disabledReason: string | null;
  disabledAt: string | null;
  /** Since when every attempt has failed; null after a success. */
  failingSince: string | null;
  lastSuccessAt: string | null;
  /** Until when deliveries are also signed with the secret replaced by the last rotation. */
  previousSecretExpiresAt: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** Answer of creation and rotation: the only two places a secret is shown. */
export type SubscriptionWithSecret = Subscription & { secret: string };

export function toSubscription(row: SubscriptionRow): Subscription {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  const graceLeft = row.previous_secret_expires_at && row.previous_secret_expires_at > new Date();
  return {
    id: Number(row.id),
    url: row.url,
    events: row.events,
    description: row.description,
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    disabledAt: iso(row.disabled_at),
    failingSince: iso(row.failing_since),
    lastSuccessAt: iso(row.last_success_at),
    previousSecretExpiresAt: graceLeft ? iso(row.previous_secret_expires_at) : null,
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
