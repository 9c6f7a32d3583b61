/**
 * Window arithmetic, all in event time. The stored unit is the one-minute pane (the tumbling window);
 * a hopping window of `sizeMinutes` advancing by `hopMinutes` is the sum of its consecutive panes.
 * Windows are aligned to the Unix epoch, so every instance and every replay agrees on them.
 */
export const MINUTE_MS = 60_000;

export interface WindowSpec {
  /** How the API names it: `1m`, or the hopping window's size such as `5m`. */
  label: string;
  kind: 'tumbling' | 'hopping';
  sizeMinutes: number;
  hopMinutes: number;
}

export interface TimeWindow {
  start: Date;
  end: Date;
}

export const TUMBLING: WindowSpec = { label: '1m', kind: 'tumbling', sizeMinutes: 1, hopMinutes: 1 };

/** The windows the API offers: the one-minute tumbling window and the configured hopping window. */
export function windowSpecs(hopping: { sizeMinutes: number; hopMinutes: number }): WindowSpec[] {
  if (hopping.sizeMinutes === 1) return [TUMBLING];
  return [TUMBLING, { label: `${hopping.sizeMinutes}m`, kind: 'hopping', ...hopping }];
}

export function alignDown(t: number, stepMs: number): number {
  return Math.floor(t / stepMs) * stepMs;
}

export function alignUp(t: number, stepMs: number): number {
  return Math.ceil(t / stepMs) * stepMs;
}

/** The one-minute pane an instant falls in. */
export function paneOf(at: Date): TimeWindow {
  const start = alignDown(at.getTime(), MINUTE_MS);
  return { start: new Date(start), end: new Date(start + MINUTE_MS) };
}

/** Start of every window that starts in [from, to), `from` first aligned down to the hop. */
export function windowStarts(spec: WindowSpec, from: Date, to: Date): Date[] {
  const hop = spec.hopMinutes * MINUTE_MS;
  const starts: Date[] = [];
  for (let t = alignDown(from.getTime(), hop); t < to.getTime(); t += hop) starts.push(new Date(t));
  return starts;
}

/** How many windows start in [from, to): checked before building them, to bound a request. */
export function countWindows(spec: WindowSpec, from: Date, to: Date): number {
  const hop = spec.hopMinutes * MINUTE_MS;
  return Math.max(0, Math.ceil((to.getTime() - alignDown(from.getTime(), hop)) / hop));
}

/**
 * The window that contains `at` and ends soonest after it: for the tumbling window, `at`'s minute;
 * for a hopping window, the last `sizeMinutes` up to the hop boundary after `at`.
 */
export function windowEndingAfter(spec: WindowSpec, at: Date): TimeWindow {
  const hop = spec.hopMinutes * MINUTE_MS;
  const end = alignDown(at.getTime(), hop) + hop;
  return { start: new Date(end - spec.sizeMinutes * MINUTE_MS), end: new Date(end) };
}

export function windowOf(spec: WindowSpec, start: Date): TimeWindow {
  return { start, end: new Date(start.getTime() + spec.sizeMinutes * MINUTE_MS) };
}

/**
 * When an order event happened, for windowing: the time the order itself carries (so a replay or a
 * redelivery lands in the same window), else the event's own time (`ce_time` or the record timestamp).
 */
export function eventTime(carried: string | undefined, fallback: Date): Date {
  if (carried) {
    const t = new Date(carried);
    if (!Number.isNaN(t.getTime())) return t;
  }
  return fallback;
}
