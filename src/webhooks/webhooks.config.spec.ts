import { ConfigurationError, parseDurationList, validateEnv } from '../config/env';

function errorOf(raw: Record<string, unknown>): string {
  try {
    validateEnv(raw);
  } catch (err) {
    if (err instanceof ConfigurationError) return err.message;
    throw err;
  }
  throw new Error(`validateEnv accepted ${JSON.stringify(raw)}`);
}

describe('webhook configuration', () => {
  it('defaults to the documented schedule, limits and periods', () => {
    expect(validateEnv({})).toMatchObject({
      WEBHOOK_ALLOW_PRIVATE_TARGETS: false,
      WEBHOOK_TIMEOUT_MS: 15_000,
      WEBHOOK_RETRY_SCHEDULE: '0,5s,5m,30m,2h,5h,10h,10h',
      WEBHOOK_RETRY_JITTER_PERCENT: 20,
      WEBHOOK_ENDPOINT_CONCURRENCY: 50,
      WEBHOOK_DISPATCH_CONCURRENCY: 100,
      WEBHOOK_DISABLE_AFTER_HOURS: 120,
      WEBHOOK_RETENTION_DAYS: 30,
      WEBHOOK_SECRET_GRACE_HOURS: 24,
    });
    expect(validateEnv({}).INBOUND_WEBHOOK_SECRET).toBeUndefined();
  });

  it('reads the default schedule as immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h', () => {
    expect(parseDurationList('0,5s,5m,30m,2h,5h,10h,10h')).toEqual([0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(parseDurationList(' 0 , 250ms, 1d ')).toEqual([0, 250, 86_400_000]);
  });

  it.each(['soon', '5x', '5s,,5m', '5,5s'])('refuses the schedule %j, naming the variable', (schedule) => {
    expect(errorOf({ WEBHOOK_RETRY_SCHEDULE: schedule })).toMatch(/^Invalid configuration: WEBHOOK_RETRY_SCHEDULE must be/);
  });

  it('takes the default schedule for an empty variable', () => {
    expect(validateEnv({ WEBHOOK_RETRY_SCHEDULE: '' }).WEBHOOK_RETRY_SCHEDULE).toBe('0,5s,5m,30m,2h,5h,10h,10h');
  });

  it('refuses a lease that does not outlast the request timeout', () => {
    expect(errorOf({ WEBHOOK_TIMEOUT_MS: '20000', WEBHOOK_LEASE_MS: '15000' })).toBe(
      'Invalid configuration: WEBHOOK_LEASE_MS must exceed WEBHOOK_TIMEOUT_MS',
    );
  });

  it('refuses a malformed inbound secret without echoing it', () => {
    const message = errorOf({ INBOUND_WEBHOOK_SECRET: 'whsec_tooShort' });
    expect(message).toContain('INBOUND_WEBHOOK_SECRET');
    expect(message).not.toContain('tooShort');
  });

  it('reads booleans for the private-target guard', () => {
    expect(validateEnv({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' }).WEBHOOK_ALLOW_PRIVATE_TARGETS).toBe(true);
    expect(errorOf({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'yes' })).toContain('WEBHOOK_ALLOW_PRIVATE_TARGETS');
  });
});
