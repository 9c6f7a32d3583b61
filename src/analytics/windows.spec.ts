import { countWindows, eventTime, paneOf, TUMBLING, windowEndingAfter, windowSpecs, windowStarts } from './windows';

const at = (iso: string) => new Date(iso);
const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
const FIVE_BY_ONE = windowSpecs({ sizeMinutes: 5, hopMinutes: 1 })[1];

describe('windows', () => {
  it('puts an instant in the minute it falls in, aligned to the epoch', () => {
    expect(paneOf(at('2026-11-25T10:03:59.999Z'))).toEqual({ start: at('2026-11-25T10:03:00Z'), end: at('2026-11-25T10:04:00Z') });
  });

  it('offers the tumbling minute and the configured hopping window by label', () => {
    expect(windowSpecs({ sizeMinutes: 5, hopMinutes: 1 }).map((w) => [w.label, w.kind])).toEqual([
      ['1m', 'tumbling'],
      ['5m', 'hopping'],
    ]);
    expect(windowSpecs({ sizeMinutes: 1, hopMinutes: 1 })).toEqual([TUMBLING]);
  });

  it('lists the windows that start in a range, the range start aligned down to the hop', () => {
    const tenMinutesByFive = { label: '10m', kind: 'hopping' as const, sizeMinutes: 10, hopMinutes: 5 };

    expect(iso(windowStarts(tenMinutesByFive, at('2026-11-25T10:07:30Z'), at('2026-11-25T10:20:00Z')))).toEqual([
      '2026-11-25T10:05:00.000Z',
      '2026-11-25T10:10:00.000Z',
      '2026-11-25T10:15:00.000Z',
    ]);
    expect(countWindows(tenMinutesByFive, at('2026-11-25T10:07:30Z'), at('2026-11-25T10:20:00Z'))).toBe(3);
  });

  it('counts the windows of a range without building them', () => {
    expect(countWindows(TUMBLING, at('2026-11-25T00:00:00Z'), at('2026-11-26T00:00:00Z'))).toBe(1440);
    expect(countWindows(TUMBLING, at('2026-11-25T00:00:30Z'), at('2026-11-25T00:01:00Z'))).toBe(1);
  });

  it('picks the window that holds an instant and ends soonest after it', () => {
    expect(windowEndingAfter(TUMBLING, at('2026-11-25T10:03:20Z'))).toEqual({ start: at('2026-11-25T10:03:00Z'), end: at('2026-11-25T10:04:00Z') });
    expect(windowEndingAfter(FIVE_BY_ONE, at('2026-11-25T10:03:20Z'))).toEqual({ start: at('2026-11-25T09:59:00Z'), end: at('2026-11-25T10:04:00Z') });
  });

  it("windows an event by the time the order carries, not by when it was consumed", () => {
    const consumedAt = at('2026-11-25T12:00:00Z');

    expect(eventTime('2026-11-25T10:00:05.000Z', consumedAt)).toEqual(at('2026-11-25T10:00:05Z'));
    expect(eventTime(undefined, consumedAt)).toBe(consumedAt);
    expect(eventTime('not a date', consumedAt)).toBe(consumedAt);
  });
});
