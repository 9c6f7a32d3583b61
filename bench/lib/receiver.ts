import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { nowMs } from './time';

export interface Receipt {
  /** The path's last segment: one channel per subscription (or baseline). */
  channel: string;
  /** `data.id` of the webhook body: the order id. */
  id: unknown;
  webhookId: string;
  at: number;
}

interface Sample {
  channel: string;
  headers: { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string };
  body: string;
}

/**
 * The local webhook endpoint: answers 204 at once and verifies nothing while measuring (as a fast
 * receiver would), remembering when each delivery arrived. The first few requests of each channel are
 * kept so their signatures can be checked afterwards, outside the measurement.
 */
export class WebhookReceiver {
  readonly receipts: Receipt[] = [];
  private readonly samples: Sample[] = [];
  private readonly sampled = new Map<string, number>();
  private server?: Server;
  port = 0;

  static async start(): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    receiver.server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const at = nowMs();
        res.writeHead(204).end();
        const channel = (req.url ?? '').split('/').pop() ?? '';
        const body = Buffer.concat(chunks).toString('utf8');
        let id: unknown;
        try {
          id = JSON.parse(body)?.data?.id;
        } catch {
          id = undefined;
        }
        const webhookId = String(req.headers['webhook-id'] ?? '');
        receiver.receipts.push({ channel, id, webhookId, at });
        const n = receiver.sampled.get(channel) ?? 0;
        if (n < 20) {
          receiver.sampled.set(channel, n + 1);
          receiver.samples.push({
            channel,
            headers: {
              'webhook-id': webhookId,
              'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
              'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
            },
            body,
          });
        }
      });
    });
    receiver.server.maxRequestsPerSocket = 0;
    await new Promise<void>((resolve) => receiver.server!.listen(0, '127.0.0.1', resolve));
    receiver.port = (receiver.server.address() as AddressInfo).port;
    return receiver;
  }

  url(channel: string): string {
    return `http://127.0.0.1:${this.port}/hooks/${channel}`;
  }

  /** First arrival of each id on a channel. */
  firstArrivals(channel: string): Map<unknown, number> {
    const out = new Map<unknown, number>();
    for (const r of this.receipts) if (r.channel === channel && !out.has(r.id)) out.set(r.id, r.at);
    return out;
  }

  /** Checks the kept samples of channels against their secrets (Standard Webhooks); counts valid ones. */
  verifySamples(secrets: Map<string, string>): { checked: number; valid: number } {
    let checked = 0;
    let valid = 0;
    for (const s of this.samples) {
      const secret = secrets.get(s.channel);
      if (!secret) continue;
      checked += 1;
      try {
        new Webhook(secret).verify(s.body, s.headers);
        valid += 1;
      } catch {
        // counted as checked, not valid
      }
    }
    return { checked, valid };
  }

  clear(): void {
    this.receipts.length = 0;
    this.samples.length = 0;
    this.sampled.clear();
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }
}
