import { deliveryState, subscriptionState, summariseDeliveries, summariseSubscriptions } from './webhook-health';

describe('webhook health, read from whatever columns the webhooks tables have', () => {
  it.each([
    [{ status: 'disabled' }],
    [{ enabled: false }],
    [{ active: false }],
    [{ disabled_at: '2026-11-25T10:00:00Z', consecutive_failures: 12 }],
  ])('counts %j as disabled', (row) => {
    expect(subscriptionState(row)).toBe('disabled');
  });

  it.each([
    [{ status: 'active', consecutive_failures: 2 }],
    [{ failure_count: 1 }],
    [{ last_failure_at: '2026-11-25T10:05:00Z', last_success_at: '2026-11-25T10:00:00Z' }],
    [{ status: 'failing' }],
    [{ enabled: true, failing_since: '2026-11-25T10:00:00Z', last_success_at: '2026-11-25T09:00:00Z' }],
  ])('counts %j as failing', (row) => {
    expect(subscriptionState(row)).toBe('failing');
  });

  it.each([
    [{ status: 'active', consecutive_failures: 0 }],
    [{ enabled: true, failing_since: null, disabled_at: null }],
    [{ last_failure_at: '2026-11-25T10:00:00Z', last_success_at: '2026-11-25T10:05:00Z' }],
    [{}],
  ])('counts %j as healthy', (row) => {
    expect(subscriptionState(row)).toBe('healthy');
  });

  it('tallies subscriptions by state', () => {
    expect(summariseSubscriptions([{ enabled: true }, { enabled: false }, { failure_count: 3 }, {}])).toEqual({
      total: 4,
      healthy: 2,
      failing: 1,
      disabled: 1,
    });
  });

  it('maps delivery statuses to succeeded, failed and pending, case-insensitively', () => {
    expect(deliveryState('SUCCEEDED')).toBe('succeeded');
    expect(deliveryState('delivered')).toBe('succeeded');
    expect(deliveryState('dead_lettered')).toBe('failed');
    expect(deliveryState('retrying')).toBe('pending');
    expect(deliveryState(null)).toBe('pending');
  });

  it('adds up delivery counts per state', () => {
    expect(
      summariseDeliveries([
        { status: 'succeeded', count: 5 },
        { status: 'delivered', count: 2 },
        { status: 'failed', count: 1 },
        { status: 'pending', count: 3 },
      ]),
    ).toEqual({ succeeded: 7, failed: 1, pending: 3 });
  });
});
