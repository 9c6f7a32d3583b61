import type { E2eApp } from './e2e-app';
import { anOrder, aUser } from './factories';
import { waitFor } from './wait-for';

/** Budget for `caughtUp`, and for the `beforeAll` hooks that call it. */
export const CATCH_UP_MS = 170_000;

/**
 * Waits until the app's webhook fan-out (the consumer group webhook tests depend on) has caught up with
 * the shared topics: a user and an order created now have both been fanned out. Other processes keep writing to the same topics, so a consumer group
 * that was away may first have thousands of records to go through; tests that count on prompt
 * delivery start after this.
 */
export async function caughtUp(e2e: E2eApp, timeoutMs = CATCH_UP_MS - 10_000): Promise<void> {
  const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
  const order = (await e2e.http.post('/orders').send(anOrder(user.id)).expect(201)).body;
  await waitFor(
    'the consumers to catch up with the topics',
    async () => {
      const [{ n }] = await e2e.db.query(
        `SELECT count(*)::int AS n FROM event_log l JOIN inbox i ON i.message_id = l.event_id AND i.consumer = 'webhooks.fanout'
          WHERE (l.entity_type, l.entity_id, l.type) IN (('user', $1, 'user_created'), ('order', $2, 'order_placed'))`,
        [String(user.id), String(order.id)],
      );
      return n === 2;
    },
    { timeoutMs, intervalMs: 200 },
  );
}
