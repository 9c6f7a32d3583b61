import { appConfig, AppConfig } from '../src/config/app.config';
import { WebhookDispatcher } from '../src/webhooks/dispatch/webhook-dispatcher.service';
import { E2eApp, startE2eApp } from './support/e2e-app';
import { aUser, unique } from './support/factories';
import { CATCH_UP_MS, caughtUp } from './support/webhook-fan-out';
import { waitFor } from './support/wait-for';
import { WebhookReceiver } from './support/webhook-receiver';

const ADMIN = { authorization: `Bearer ${process.env.ADMIN_TOKEN!}` };

/**
 * In an app of its own, whose webhook timeout outlasts the test: with the suite's 2 s, a slow machine
 * times the first held requests out, and sends their retries, before the last ones arrive, so the
 * receiver holds more requests than the dispatcher has in flight.
 */
describe('webhook delivery: requests in flight to one endpoint', () => {
  let e2e: E2eApp;
  let receiver: WebhookReceiver;
  let subscriptionId: number | undefined;

  beforeAll(async () => {
    e2e = await startE2eApp({ WEBHOOK_TIMEOUT_MS: '30000' });
    receiver = await WebhookReceiver.start();
    await caughtUp(e2e);
  }, CATCH_UP_MS + 20_000);
  afterAll(async () => {
    if (subscriptionId !== undefined) await e2e?.http.delete(`/webhooks/${subscriptionId}`).set(ADMIN);
    await receiver?.stop();
    await e2e?.close();
  });

  it('never has more requests in flight to one endpoint than WEBHOOK_ENDPOINT_CONCURRENCY', async () => {
    const limit = e2e.app.get<AppConfig>(appConfig.KEY).webhooks.endpointConcurrency;
    const prefix = unique('held');
    const waiting: (() => void)[] = [];
    receiver.respond = async (req) => {
      if (String(req.json.data.name).startsWith(prefix)) await new Promise<void>((resolve) => waiting.push(resolve));
      return { status: 200 };
    };
    subscriptionId = (await e2e.http.post('/webhooks').set(ADMIN).send({ url: receiver.url, events: ['user_created'] }).expect(201)).body.id;
    for (let i = 0; i < limit + 3; i += 1) await e2e.http.post('/users').send(aUser({ name: `${prefix}-${i}` })).expect(201);

    await waitFor(`${limit} held requests`, () => waiting.length === limit);
    const dispatcher = e2e.app.get(WebhookDispatcher);
    const rounds = dispatcher.claimRounds;
    // The dispatcher has looked for due work again several times while the held requests fill the limit.
    await waitFor('three more claim rounds', () => dispatcher.claimRounds >= rounds + 3);
    expect(waiting.length).toBe(limit);

    const releaseAll = setInterval(() => waiting.splice(0).forEach((release) => release()), 20);
    try {
      await receiver.count('every user', (x) => String(x.json.data.name).startsWith(prefix), limit + 3);
    } finally {
      clearInterval(releaseAll);
      waiting.splice(0).forEach((release) => release());
    }
  });
});
