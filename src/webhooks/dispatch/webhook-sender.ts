import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { appConfig, AppConfig } from '../../config/app.config';
import { childOf, formatTraceparent, parseTraceparent, TRACEPARENT_HEADER } from '../../common/tracing/trace-context';
import { blockedReason, guardedLookup, hostOf } from '../security/target-guard';
import { signatureHeader } from '../security/signing';

/** Response bodies are read up to this many bytes, kept in the attempt log, and the rest is never read. */
export const RESPONSE_BODY_CAP = 4096;
const ERROR_CAP = 500;

export interface OutgoingWebhook {
  url: string;
  /** `webhook-id`: the delivery's id, the same on every attempt, so receivers can deduplicate. */
  messageId: string;
  body: string;
  /** Signing secrets: the current one, and the previous one during a rotation's grace period. */
  secrets: string[];
  /** Trace context stored with the delivery (from the event's Kafka header). */
  traceparent: string | null;
}

export interface SendResult {
  startedAt: Date;
  durationMs: number;
  statusCode?: number;
  error?: string;
  responseBody?: string;
  retryAfter?: string;
}

/**
 * Sends one Standard Webhooks request. Never follows redirects, reads at most RESPONSE_BODY_CAP
 * bytes of the answer, gives up after the timeout, and connects only to addresses the target guard
 * accepted (the checked address is the one the socket uses). Never throws: a failure is a result.
 */
@Injectable()
export class WebhookSender implements OnApplicationShutdown {
  private readonly agent: Agent;
  private readonly userAgent = `Nestream-Webhooks/${packageVersion()}`;
  private readonly allowPrivate: boolean;
  private readonly timeoutMs: number;

  constructor(@Inject(appConfig.KEY) config: AppConfig) {
    this.allowPrivate = config.webhooks.allowPrivateTargets;
    this.timeoutMs = config.webhooks.timeoutMs;
    this.agent = new Agent({
      connect: { lookup: guardedLookup(this.allowPrivate), timeout: this.timeoutMs },
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      keepAliveTimeout: 10_000,
    });
  }

  async send(webhook: OutgoingWebhook): Promise<SendResult> {
    const startedAt = new Date();
    const elapsed = () => Date.now() - startedAt.getTime();
    const url = new URL(webhook.url);
    // An IP literal never goes through the lookup, so it is checked here.
    const literal = hostOf(url);
    const refused = !this.allowPrivate && isIP(literal) ? blockedReason(literal) : undefined;
    if (refused) return { startedAt, durationMs: 0, error: `refused: ${literal} is ${refused}` };

    // Signatures cover whole seconds, as the header carries them.
    const timestamp = new Date(Math.floor(Date.now() / 1000) * 1000);
    const headers = {
      'content-type': 'application/json',
      'user-agent': this.userAgent,
      'webhook-id': webhook.messageId,
      'webhook-timestamp': String(timestamp.getTime() / 1000),
      'webhook-signature': signatureHeader(webhook.secrets, webhook.messageId, timestamp, webhook.body),
      [TRACEPARENT_HEADER]: formatTraceparent(childOf(parseTraceparent(webhook.traceparent ?? undefined))),
    };
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      const res = await request(url, { method: 'POST', headers, body: webhook.body, dispatcher: this.agent, signal });
      // A 2xx that arrived in time is a success even if reading its body then fails.
      const responseBody = await readCapped(res.body).catch(() => undefined);
      const redirect = res.statusCode >= 300 && res.statusCode < 400;
      return {
        startedAt,
        durationMs: elapsed(),
        statusCode: res.statusCode,
        responseBody,
        retryAfter: firstHeader(res.headers['retry-after']),
        ...(redirect && { error: 'redirect not followed' }),
      };
    } catch (err) {
      const error = signal.aborted ? `timed out after ${this.timeoutMs} ms` : describe(err);
      return { startedAt, durationMs: elapsed(), error: error.slice(0, ERROR_CAP) };
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.agent.destroy();
  }
}

async function readCapped(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    // Leaving the loop destroys the stream: the rest of a large body is never downloaded.
    if (size >= RESPONSE_BODY_CAP) break;
  }
  // Postgres text cannot hold NUL characters.
  return Buffer.concat(chunks).subarray(0, RESPONSE_BODY_CAP).toString('utf8').replace(/\u0000/g, '');
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function describe(err: unknown): string {
  // Duck-typed: errors from undici or the socket may come from another realm (instanceof fails there).
  if (typeof err !== 'object' || err === null || typeof (err as Error).message !== 'string') return String(err);
  const { code, cause } = err as { code?: string; cause?: { message?: unknown } };
  const because = typeof cause?.message === 'string' ? `: ${cause.message}` : '';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return `timed out (${(err as Error).message})`;
  }
  return `${(err as Error).message}${because}`;
}

function packageVersion(): string {
  // src/webhooks/dispatch and dist/webhooks/dispatch both sit three levels below package.json.
  try {
    return JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}
