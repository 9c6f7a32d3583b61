/** How failed attempts are retried: the configured schedule, jitter, and a bounded Retry-After. */
export interface RetryPolicy {
  /** Delay before attempt n+1 (index n), counted from the attempt before it; its length is the number of attempts. */
  scheduleMs: number[];
  jitterPercent: number;
  retryAfterMaxMs: number;
}

export interface AttemptResult {
  statusCode?: number;
  /** The Retry-After header, when the response had one. */
  retryAfter?: string;
}

export type Decision =
  | { kind: 'succeeded' }
  /** 410 Gone: the receiver asks us to stop; the subscription is disabled. */
  | { kind: 'gone' }
  | { kind: 'retry'; delayMs: number }
  | { kind: 'exhausted' };

/**
 * What follows an attempt. `attempt` is 1-based and counts attempts since the delivery was (re)queued.
 * Only a 2xx succeeds: redirects, other statuses, timeouts and network errors are retried.
 */
export function decide(policy: RetryPolicy, attempt: number, result: AttemptResult, now = new Date(), random = Math.random): Decision {
  const status = result.statusCode;
  if (status !== undefined && status >= 200 && status < 300) return { kind: 'succeeded' };
  if (status === 410) return { kind: 'gone' };
  if (attempt >= policy.scheduleMs.length) return { kind: 'exhausted' };
  if (status === 429 || status === 503) {
    const asked = parseRetryAfter(result.retryAfter, now);
    if (asked !== undefined) return { kind: 'retry', delayMs: Math.min(asked, policy.retryAfterMaxMs) };
  }
  return { kind: 'retry', delayMs: withJitter(policy.scheduleMs[attempt], policy.jitterPercent, random) };
}

/** The delay before the first attempt of a new delivery. */
export function firstDelay(policy: RetryPolicy, random = Math.random): number {
  return withJitter(policy.scheduleMs[0] ?? 0, policy.jitterPercent, random);
}

/** Moves a delay by up to ±percent, at random, so endpoints that failed together are not retried in lockstep. */
export function withJitter(delayMs: number, percent: number, random = Math.random): number {
  const spread = (delayMs * percent) / 100;
  return Math.max(0, Math.round(delayMs + spread * (2 * random() - 1)));
}

/** Retry-After as delay-seconds or an HTTP date, in milliseconds from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = new Date()): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date has a day and month name; anything else (such as "-5") is not one.
  if (!/[A-Za-z]/.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now.getTime());
}
