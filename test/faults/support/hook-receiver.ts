import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '../../support/wait-for';

/** A webhook request as received, and whether its 200 answer was handed to the network. */
export interface Hook {
  webhookId: string;
  signed: { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string };
  raw: string;
  answered: boolean;
}

/**
 * A webhook receiver that can go down and come back on the same port. Unlike test/support's
 * WebhookReceiver it goes down gracefully — stops accepting, lets requests in flight get their answer,
 * then drops the idle connections — so a request it saw is never cut before its 200 is sent, and a
 * webhook-id seen twice really was delivered twice.
 */
export class HookReceiver {
  readonly hooks: Hook[] = [];
  private server?: Server;
  private inFlight = 0;

  private constructor(public port: number) {}

  static async start(): Promise<HookReceiver> {
    const receiver = new HookReceiver(0);
    await receiver.up();
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  /** Starts listening (again) on its port. */
  up(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      this.inFlight += 1;
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const header = (name: string) => String(req.headers[name] ?? '');
        const hook: Hook = {
          webhookId: header('webhook-id'),
          signed: { 'webhook-id': header('webhook-id'), 'webhook-timestamp': header('webhook-timestamp'), 'webhook-signature': header('webhook-signature') },
          raw: Buffer.concat(chunks).toString('utf8'),
          answered: false,
        };
        this.hooks.push(hook);
        res.on('finish', () => (hook.answered = true));
        res.writeHead(200).end();
      });
      res.on('close', () => (this.inFlight -= 1));
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        this.port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  /** Refuses new connections from now on; requests in flight still get their answer. */
  async down(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await waitFor('the requests in flight to be answered', () => this.inFlight === 0, { timeoutMs: 10_000, intervalMs: 10 });
    server.closeAllConnections();
    await closed;
  }

  /** Distinct webhook-ids answered 200, and how many were answered more than once. */
  delivered(ids: Set<string>): { delivered: number; twice: number } {
    const answered = new Map<string, number>();
    for (const h of this.hooks) if (h.answered && ids.has(h.webhookId)) answered.set(h.webhookId, (answered.get(h.webhookId) ?? 0) + 1);
    return { delivered: answered.size, twice: [...answered.values()].filter((n) => n > 1).length };
  }
}
