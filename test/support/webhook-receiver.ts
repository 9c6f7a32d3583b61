import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from './wait-for';

/** A webhook request as the receiver got it: raw body for signature checks, parsed body for assertions. */
export interface ReceivedWebhook {
  id: string;
  headers: IncomingHttpHeaders;
  /** The three Standard Webhooks headers, as `Webhook.verify` takes them. */
  signed: { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string };
  raw: string;
  json: { type: string; timestamp: string; data: Record<string, unknown> };
  receivedAt: number;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** Decides each answer; `attempt` counts requests with the same webhook-id, from 1. May wait (a held request). */
export type Responder = (request: ReceivedWebhook, attempt: number) => Reply | Promise<Reply>;

/**
 * A real HTTP endpoint on 127.0.0.1 that records every webhook request and answers as the test says.
 * Tests wait on what it recorded (`waitFor`), never on time.
 */
export class WebhookReceiver {
  readonly requests: ReceivedWebhook[] = [];
  respond: Responder = () => ({ status: 200 });
  inFlight = 0;
  maxInFlight = 0;
  private server?: Server;

  private constructor(public port: number) {}

  /** Starts listening; a given port lets a test bring a "down" receiver back where the app expects it. */
  static async start(port = 0): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(port);
    await receiver.listen();
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  /** Requests whose body is an event of this type about this entity id. */
  about(type: string, id: unknown): ReceivedWebhook[] {
    return this.requests.filter((r) => r.json.type === type && r.json.data?.id === id);
  }

  next(what: string, match: (r: ReceivedWebhook) => boolean, timeoutMs = 20_000): Promise<ReceivedWebhook> {
    return waitFor(what, () => this.requests.find(match), { timeoutMs });
  }

  /** Waits until `count` requests match. */
  count(what: string, match: (r: ReceivedWebhook) => boolean, count: number, timeoutMs = 20_000): Promise<ReceivedWebhook[]> {
    return waitFor(what, () => {
      const found = this.requests.filter(match);
      return found.length >= count ? found : undefined;
    }, { timeoutMs });
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  private listen(): Promise<void> {
    const attempts = new Map<string, number>();
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const header = (name: string) => String(req.headers[name] ?? '');
        const request: ReceivedWebhook = {
          id: header('webhook-id'),
          headers: req.headers,
          signed: { 'webhook-id': header('webhook-id'), 'webhook-timestamp': header('webhook-timestamp'), 'webhook-signature': header('webhook-signature') },
          raw,
          json: safeJson(raw),
          receivedAt: Date.now(),
        };
        const attempt = (attempts.get(request.id) ?? 0) + 1;
        attempts.set(request.id, attempt);
        this.requests.push(request);
        this.inFlight += 1;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        try {
          const reply = await this.respond(request, attempt);
          res.writeHead(reply.status, reply.headers).end(reply.body ?? '');
        } catch {
          res.destroy();
        } finally {
          this.inFlight -= 1;
        }
      });
    });
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', () => {
        this.port = (this.server!.address() as AddressInfo).port;
        resolve();
      });
    });
  }
}

function safeJson(raw: string): ReceivedWebhook['json'] {
  try {
    return JSON.parse(raw);
  } catch {
    return { type: '', timestamp: '', data: {} };
  }
}

/** A port nothing listens on (yet): for a receiver that is down. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
