import { generateSecret } from '../src/webhooks/security/signing';
import { E2eApp, startE2eApp } from './support/e2e-app';
import { waitFor } from './support/wait-for';
import { WebhookReceiver } from './support/webhook-receiver';

const TOKEN = process.env.ADMIN_TOKEN!;

describe('Webhook security with the private-target guard on', () => {
  let e2e: E2eApp;
  let receiver: WebhookReceiver;
  const output: string[] = [];
  let restoreStdout: () => void;
  const saved = { guard: process.env.WEBHOOK_ALLOW_PRIVATE_TARGETS, logLevel: process.env.LOG_LEVEL };

  beforeAll(async () => {
    // This file's app runs as in production: private targets refused. Debug logs, captured whole.
    process.env.WEBHOOK_ALLOW_PRIVATE_TARGETS = 'false';
    process.env.LOG_LEVEL = 'debug';
    // pino writes through process.stdout once it is wrapped, so every log line of the app lands here.
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      output.push(String(chunk));
      return true;
    });
    restoreStdout = () => spy.mockRestore();
    receiver = await WebhookReceiver.start();
    e2e = await startE2eApp();
  });
  afterAll(async () => {
    await e2e?.close();
    await receiver?.stop();
    restoreStdout?.();
    process.env.WEBHOOK_ALLOW_PRIVATE_TARGETS = saved.guard;
    process.env.LOG_LEVEL = saved.logLevel;
  });

  const admin = (method: 'get' | 'post' | 'patch' | 'delete', path: string) => e2e.http[method](path).set('authorization', `Bearer ${TOKEN}`);

  it.each([
    ['http://127.0.0.1:8080/hooks', 'url points to 127.0.0.1, a loopback address'],
    ['http://localhost:8080/hooks', /^url host localhost resolves to .*, a loopback address$/],
    ['http://10.0.0.7/hooks', 'url points to 10.0.0.7, a private address'],
    ['http://192.168.1.20/hooks', 'url points to 192.168.1.20, a private address'],
    ['http://169.254.169.254/latest/meta-data/', 'url points to 169.254.169.254, a cloud metadata address'],
    ['http://169.254.1.1/hooks', 'url points to 169.254.1.1, a link-local address'],
    ['http://[::1]:8080/hooks', 'url points to ::1, a loopback address'],
    ['http://[fd00::1]/hooks', 'url points to fd00::1, a unique-local address'],
    ['http://[::ffff:127.0.0.1]/hooks', 'url points to ::ffff:7f00:1, a loopback address'],
    ['http://0.0.0.0:3000/hooks', 'url points to 0.0.0.0, an unspecified address'],
  ])('refuses to register %s (400 naming url)', async (url, message) => {
    const res = await admin('post', '/webhooks').send({ url, events: ['*'] }).expect(400);
    expect(res.body.errors).toEqual([{ field: 'url', messages: [expect.stringMatching(typeof message === 'string' ? `^${escape(message)}$` : message)] }]);
  });

  it('accepts a public address, and refuses to move a subscription to a private one', async () => {
    const created = (await admin('post', '/webhooks').send({ url: 'https://93.184.215.14/hooks', events: ['webhook.disabled'] }).expect(201)).body;
    try {
      const res = await admin('patch', `/webhooks/${created.id}`).send({ url: 'http://10.1.1.1/hooks' }).expect(400);
      expect(res.body.errors[0].field).toBe('url');
      expect((await admin('get', `/webhooks/${created.id}`).expect(200)).body.url).toBe('https://93.184.215.14/hooks');
    } finally {
      await admin('delete', `/webhooks/${created.id}`).expect(204);
    }
  });

  it.each([
    ['an IP literal', (port: number) => `http://127.0.0.1:${port}/hooks`, /^refused: 127\.0\.0\.1 is a loopback address$/],
    ['a name', (port: number) => `http://localhost:${port}/hooks`, /^refused: localhost resolves to .*, a loopback address$/],
  ])('checks again at delivery time and never connects to a private address given as %s', async (_what, urlOf, error) => {
    // As if the host had been public at registration and its DNS (or the row) changed since.
    const [{ id }] = await e2e.db.query(
      `INSERT INTO webhook_subscriptions (url, events, secret) VALUES ($1, ARRAY['user_deleted'], $2) RETURNING id`,
      [urlOf(receiver.port), generateSecret()],
    );
    try {
      const { deliveryId } = (await admin('post', `/webhooks/${id}/test`).expect(202)).body;
      const attempt = await waitFor('a refused attempt in the log', async () => {
        const d = (await admin('get', `/webhooks/${id}/deliveries/${deliveryId}`).expect(200)).body;
        return d.attempts[0];
      });
      expect(attempt).toMatchObject({ statusCode: null, error: expect.stringMatching(error) });
      expect(receiver.requests).toEqual([]);
    } finally {
      await admin('delete', `/webhooks/${id}`).expect(204);
    }
  });

  it('never shows a secret in reads, and never writes one to the logs', async () => {
    const given = generateSecret();
    const created = (await admin('post', '/webhooks').send({ url: 'https://93.184.215.14/hooks', events: ['webhook.disabled'], secret: given }).expect(201)).body;
    const rotated = (await admin('post', `/webhooks/${created.id}/rotate-secret`).expect(200)).body;
    const reads = [
      (await admin('get', '/webhooks?limit=100').expect(200)).text,
      (await admin('get', `/webhooks/${created.id}`).expect(200)).text,
      (await admin('patch', `/webhooks/${created.id}`).send({ description: 'after rotation' }).expect(200)).text,
    ];
    await admin('delete', `/webhooks/${created.id}`).expect(204);

    const secrets = [given, rotated.secret].map((s) => s.slice('whsec_'.length));
    for (const text of reads) for (const secret of secrets) expect(text).not.toContain(secret);

    const logs = output.join('');
    // The capture works: the requests above and the dispatcher's attempts were logged.
    expect(logs).toContain(`/webhooks/${created.id}/rotate-secret`);
    expect(logs).toMatch(/"context":"WebhookDispatcher".*refused/);
    for (const secret of secrets) expect(logs).not.toContain(secret);
    expect(logs).not.toContain(TOKEN);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
