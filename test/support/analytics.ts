import { randomInt } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { Topics } from '../../src/events';
import { anOutsideId, unique } from './factories';
import type { OutsideProducer } from './kafka';
import { waitFor } from './wait-for';

const MINUTE = 60_000;

/**
 * A one-minute window no other test run uses: a random minute in the 2080s, so windows computed from
 * the events' own time hold only the events this test wrote, even with old runs' events still on the topics.
 */
export function aQuietMinute(): Date {
  const start = Date.UTC(2080, 0, 1);
  return new Date(start + randomInt(0, 5_000_000) * MINUTE);
}

export function plusMinutes(t: Date, minutes: number, seconds = 0): Date {
  return new Date(t.getTime() + minutes * MINUTE + seconds * 1000);
}

/** An order event as an outside producer writes it, stamped with the time it happened. */
export function anOrderAt(at: Date, overrides: Partial<{ id: number; userId: number | null; product: string; amount: number; status: string }> = {}) {
  return {
    id: anOutsideId(),
    userId: null,
    product: unique('lamp'),
    amount: 10,
    quantity: 1,
    status: 'placed',
    version: 1,
    createdAt: at.toISOString(),
    updatedAt: at.toISOString(),
    ...overrides,
  };
}

/**
 * Waits until the app consumes, in its live feed's group and in the ingest consumer's: a new app joining
 * groups that a previous test file's app has just left may wait out a rebalance before any partition is
 * assigned, longer than a single step's wait.
 */
export async function untilConsuming(db: DataSource, outside: OutsideProducer): Promise<void> {
  const sentinel = anOrderAt(aQuietMinute());
  await outside.sendJson(Topics.OrderPlaced, sentinel);
  await waitFor(
    'the app to consume its first event',
    async () =>
      (await db.query(`SELECT 1 FROM live_events WHERE type = 'order_placed' AND payload @> $1::jsonb`, [JSON.stringify({ id: sentinel.id })])).length > 0 &&
      (await db.query(`SELECT 1 FROM orders WHERE id = $1`, [sentinel.id])).length > 0,
    { timeoutMs: 55_000, intervalMs: 200 },
  );
}
