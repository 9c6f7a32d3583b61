import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { Topics } from '../src/events';
import { anOrderAt, untilConsuming } from './support/analytics';
import { launchChromium } from './support/browser';
import { E2eApp, overrideEnv, startE2eApp } from './support/e2e-app';
import { anOrder, anOutsideId, unique } from './support/factories';
import { OutsideProducer } from './support/kafka';
import { baseUrl } from './support/sse';
import { waitFor } from './support/wait-for';

// Low enough for a handful of orders to raise an anomaly the page can show.
const restoreEnv = overrideEnv({ ANALYTICS_AMOUNT_MIN_SAMPLES: '4', ANALYTICS_CANCELLATION_BURST: '3' });

const ROOT = join(__dirname, '..');
const ARTIFACTS = join(ROOT, 'test-artifacts');

declare const Chart: { getChart(id: string): { data: { datasets: { data: (number | null)[] }[] } } };

describe('The /dashboard page in a real browser', () => {
  let e2e: E2eApp;
  let outside: OutsideProducer;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    e2e = await startE2eApp();
    outside = await OutsideProducer.connect();
    await untilConsuming(e2e.db, outside);
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => msg.type() === 'error' && pageErrors.push(msg.text()));
  });
  afterAll(async () => {
    await browser?.close();
    await outside?.close();
    await e2e?.close();
    restoreEnv();
  });

  /** Sum of a dataset of a chart on the page, read from Chart.js itself. */
  const chartSum = (chart: string, dataset: number) =>
    page.evaluate(([id, i]) => Chart.getChart(id as string).data.datasets[i as number].data.reduce<number>((a, b) => a + (b ?? 0), 0), [chart, dataset] as const);
  const text = (selector: string) => page.locator(selector).innerText();

  it('shows the live feed, and the charts grow as orders are placed through the API', async () => {
    // Half an hour of history from an outside producer, so the charts have a shape.
    const now = Date.now();
    // Names no other test uses, so their running statistics are only these orders.
    const products = ['oak table', 'reading lamp', 'velvet sofa', 'wool rug', 'bookshelf'];
    for (let m = 25; m >= 1; m -= 1) {
      const count = 2 + Math.round(3 + 3 * Math.sin(m / 3.5) + ((m * 7) % 4));
      for (let i = 0; i < count; i += 1) {
        const at = new Date(now - m * 60_000 + i * 1000);
        const order = anOrderAt(at, { product: products[(m + i) % products.length], amount: 40 + ((m * 37 + i * 91) % 260) + 0.99 });
        await outside.sendJson(Topics.OrderPlaced, order);
        // Now and then a customer changes their mind a minute later.
        if ((m + i) % 6 === 0) {
          await outside.sendJson(Topics.OrderCancelled, { ...order, status: 'cancelled', version: 2, updatedAt: new Date(at.getTime() + 60_000).toISOString() });
        }
      }
    }

    await page.goto(`${baseUrl(e2e.app)}/dashboard`);
    await page.locator('#stream-status[data-state="live"]').waitFor({ timeout: 20_000 });
    const before = await chartSum('orders-chart', 0);

    const user = { id: anOutsideId(), name: unique('shopper') };
    await outside.sendJson(Topics.UserCreated, user);
    await waitFor('the user to be stored', async () => (await e2e.http.get(`/users/${user.id}`)).status === 200);
    const product = unique('desk');
    const placed = [];
    for (const amount of [120, 125, 118, 122, 121]) placed.push((await e2e.http.post('/orders').send(anOrder(user.id, { product, amount })).expect(201)).body);

    await waitFor('our orders in the live feed', async () => (await text('#feed')).includes(product));
    await waitFor(`the orders chart to count ${placed.length} more orders`, async () => (await chartSum('orders-chart', 0)) >= before + placed.length);
    expect(await chartSum('revenue-chart', 0)).toBeGreaterThan(0);
    expect(Number((await text('#kpi-placed')).replace(/,/g, ''))).toBeGreaterThanOrEqual(placed.length);
    expect(await page.locator('#feed li.event[data-type="order_placed"]').count()).toBeGreaterThanOrEqual(placed.length);
  });

  it('lists a new anomaly, top products and pipeline health, and saves a screenshot', async () => {
    const user = { id: anOutsideId(), name: unique('shopper') };
    await outside.sendJson(Topics.UserCreated, user);
    await waitFor('the user to be stored', async () => (await e2e.http.get(`/users/${user.id}`)).status === 200);
    const product = unique('armchair');
    for (const amount of [300, 310, 295, 305]) await e2e.http.post('/orders').send(anOrder(user.id, { product, amount })).expect(201);
    await waitFor('four samples of the product', async () => {
      const [row] = await e2e.db.query(`SELECT samples FROM analytics_product_stats WHERE product = $1`, [product]);
      return Number(row?.samples) === 4;
    });
    const outlier = (await e2e.http.post('/orders').send(anOrder(user.id, { product, amount: 4999.99 })).expect(201)).body;

    await waitFor('the anomaly on the page', async () => (await text('#anomalies')).includes(`order ${outlier.id} of ${product}`));
    await waitFor('the anomaly_detected event in the feed', async () => (await page.locator('#feed li.event[data-type="anomaly_detected"]').count()) > 0);
    await waitFor('top products listed', async () => (await page.locator('#top-products li.bar').count()) > 0);
    await waitFor('consumer lag shown', async () => /^\d[\d,]*$/.test(await text('#kpi-lag')));
    const webhooks = await text('#webhooks');
    const configured = (await e2e.db.query(`SELECT to_regclass('webhook_subscriptions') IS NOT NULL AS yes`))[0].yes;
    if (!configured) expect(webhooks).toContain('webhooks not configured');
    expect(pageErrors).toEqual([]);

    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'dashboard.png');
    // Kept under the git-ignored test-artifacts/; docs/dashboard.png is refreshed by hand from it.
    await page.screenshot({ path: shot, fullPage: true });
  });
});
