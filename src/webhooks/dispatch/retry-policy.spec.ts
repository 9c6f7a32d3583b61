import { decide, firstDelay, parseRetryAfter, RetryPolicy, withJitter } from './retry-policy';

const policy = (overrides: Partial<RetryPolicy> = {}): RetryPolicy => ({
  scheduleMs: [0, 5_000, 300_000, 1_800_000],
  jitterPercent: 0,
  retryAfterMaxMs: 3_600_000,
  ...overrides,
});
const NOW = new Date('2026-11-25T10:00:00Z');

describe('decide', () => {
  it.each([200, 201, 204, 299])('counts %d as a success', (statusCode) => {
    expect(decide(policy(), 1, { statusCode })).toEqual({ kind: 'succeeded' });
  });

  it('stops on 410 Gone, whatever the attempt', () => {
    expect(decide(policy(), 1, { statusCode: 410 })).toEqual({ kind: 'gone' });
  });

  it.each([301, 302, 307, 308, 400, 404, 500, 502])('retries %d on the schedule', (statusCode) => {
    expect(decide(policy(), 2, { statusCode })).toEqual({ kind: 'retry', delayMs: 300_000 });
  });

  it('retries a timeout or network error (no status) on the schedule', () => {
    expect(decide(policy(), 1, {})).toEqual({ kind: 'retry', delayMs: 5_000 });
  });

  it('gives up once every scheduled attempt was made', () => {
    expect(decide(policy(), 4, { statusCode: 500 })).toEqual({ kind: 'exhausted' });
  });

  it('honours Retry-After on 429 and 503 instead of the schedule', () => {
    expect(decide(policy(), 1, { statusCode: 429, retryAfter: '120' }, NOW)).toEqual({ kind: 'retry', delayMs: 120_000 });
    expect(decide(policy(), 1, { statusCode: 503, retryAfter: 'Wed, 25 Nov 2026 10:01:00 GMT' }, NOW)).toEqual({ kind: 'retry', delayMs: 60_000 });
  });

  it('caps a Retry-After at the configured bound', () => {
    expect(decide(policy({ retryAfterMaxMs: 60_000 }), 1, { statusCode: 429, retryAfter: '86400' }, NOW)).toEqual({ kind: 'retry', delayMs: 60_000 });
  });

  it('ignores Retry-After on other statuses and unreadable values', () => {
    expect(decide(policy(), 1, { statusCode: 500, retryAfter: '120' }, NOW)).toEqual({ kind: 'retry', delayMs: 5_000 });
    expect(decide(policy(), 1, { statusCode: 429, retryAfter: 'soon' }, NOW)).toEqual({ kind: 'retry', delayMs: 5_000 });
  });

  it('does not let Retry-After extend the number of attempts', () => {
    expect(decide(policy(), 4, { statusCode: 429, retryAfter: '1' }, NOW)).toEqual({ kind: 'exhausted' });
  });
});

describe('withJitter', () => {
  it('moves a delay by at most the given share either way', () => {
    expect(withJitter(10_000, 20, () => 0)).toBe(8_000);
    expect(withJitter(10_000, 20, () => 1)).toBe(12_000);
    expect(withJitter(10_000, 20, () => 0.5)).toBe(10_000);
  });

  it('keeps an immediate attempt immediate', () => {
    expect(withJitter(0, 20, () => 1)).toBe(0);
    expect(firstDelay(policy({ jitterPercent: 50 }), () => 1)).toBe(0);
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates, and nothing else', () => {
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter(' 30 ', NOW)).toBe(30_000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 09:00:00 GMT', NOW)).toBe(0);
    expect(parseRetryAfter('-5', NOW)).toBeUndefined();
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
  });
});
