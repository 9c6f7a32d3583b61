import { randomUUID } from 'node:crypto';
import { CompressionTypes, Producer } from 'kafkajs';
import { Topics } from '../../../src/events';
import { SendReceipt } from '../../../src/messaging/kafka/send-receipt';
import { aQuietMinute, anOrderAt } from '../../support/analytics';
import { waitFor } from '../../support/wait-for';
import { kafkaOf } from './kafka-ledger';

/** One acknowledged write: the entity and the version its answer reported (one event each). */
export interface AcknowledgedWrite {
  entityId: number;
  version: number;
}

export interface UserWriteLoadOptions {
  /** Base URLs of the instances to write to, asked before every request (an instance may be gone). */
  targets: () => string[];
  /** Requests in flight at once. */
  concurrency?: number;
  /** Upper bound on the request rate, so the load lasts through the fault instead of finishing before it. */
  ratePerSecond?: number;
  /** The load stops by itself after this many requests. */
  maxRequests: number;
  /** PATCHes per created user: each user's events are created (v1), then updated (v2, v3, …). */
  updatesPerUser?: number;
  requestTimeoutMs?: number;
}

/**
 * HTTP write load on the users API: creates users and renames each a few times, from several concurrent
 * writers, round-robin over the instances. Records every acknowledged write (2xx); every name it writes
 * starts with `namePrefix`, so writes that failed at the client but committed can be found afterwards.
 */
export class UserWriteLoad {
  readonly acknowledged: AcknowledgedWrite[] = [];
  /** Requests not acknowledged, by cause (`HTTP 500`, `ECONNREFUSED`, `timeout`, …). */
  readonly refusedBy = new Map<string, number>();
  requests = 0;
  private stopped = false;
  private workers: Promise<void>[] = [];
  private nextSlotAt = 0;
  /** Every user name this load writes starts with it. */
  readonly namePrefix = `fault-${randomUUID().slice(0, 8)}`;
  private created = 0;

  constructor(private readonly options: UserWriteLoadOptions) {}

  get refused(): number {
    return [...this.refusedBy.values()].reduce((a, b) => a + b, 0);
  }

  start(): this {
    this.workers = Array.from({ length: this.options.concurrency ?? 8 }, () => this.worker());
    return this;
  }

  /** Stops issuing requests and waits for those in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.workers);
  }

  /** Waits until `count` more writes than `since` have been acknowledged. */
  async acknowledgedMore(count: number, since = this.acknowledged.length, timeoutMs = 60_000): Promise<void> {
    await waitFor(`${count} more acknowledged writes (have ${this.acknowledged.length - since})`, () => this.acknowledged.length - since >= count || this.done(), {
      timeoutMs,
    });
    if (this.acknowledged.length - since < count) throw new Error(`the load ended after ${this.requests} requests, before ${count} more writes were acknowledged`);
  }

  refusedSummary(): string {
    return [...this.refusedBy].map(([cause, n]) => `${cause}×${n}`).join(',') || '0';
  }

  private done(): boolean {
    return this.stopped || this.requests >= this.options.maxRequests;
  }

  private async worker(): Promise<void> {
    const updates = this.options.updatesPerUser ?? 2;
    while (!this.done()) {
      const name = `${this.namePrefix}-${(this.created += 1)}`;
      const user = await this.send('POST', '/users', { name });
      if (!user) continue;
      for (let n = 1; n <= updates && !this.done(); n += 1) {
        await this.send('PATCH', `/users/${user.id}`, { name: `${name}~${n}` });
      }
    }
  }

  private async send(method: string, path: string, body: unknown): Promise<{ id: number; version: number } | undefined> {
    await this.pace();
    const targets = this.options.targets();
    if (targets.length === 0) throw new Error('no instance to send the load to');
    const url = targets[this.requests % targets.length] + path;
    this.requests += 1;
    try {
      const res = await fetch(url, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 10_000),
      });
      if (res.status >= 200 && res.status < 300) {
        const entity = (await res.json()) as { id: number; version: number };
        this.acknowledged.push({ entityId: entity.id, version: entity.version });
        return entity;
      }
      this.refuse(`HTTP ${res.status}`);
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      this.refuse(e.name === 'TimeoutError' ? 'timeout' : (e.cause?.code ?? e.name));
    }
    return undefined;
  }

  private refuse(cause: string): void {
    this.refusedBy.set(cause, (this.refusedBy.get(cause) ?? 0) + 1);
  }

  /** Spaces requests out to ratePerSecond (pacing the generator, not waiting for the system under test). */
  private async pace(): Promise<void> {
    const rate = this.options.ratePerSecond;
    if (!rate) return;
    const now = Date.now();
    const at = Math.max(now, this.nextSlotAt);
    this.nextSlotAt = at + 1000 / rate;
    if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
  }
}

/**
 * An outside producer (plain JSON, no headers, like the origin document's) writing order_placed events
 * for one quiet minute of the 2080s, so the analytics window of that minute counts exactly these orders.
 * acks=all, but not idempotent (like most outside producers, and because kafkajs' idempotent producer
 * fails with OUT_OF_ORDER_SEQUENCE_NUMBER after a leader fails over): a retry may write an order twice,
 * which the tally counts from the topic and expects as a second application.
 */
export class OutsideOrders {
  /** Ids of the orders the broker acknowledged. */
  readonly sent: number[] = [];
  /** Sends that failed (after the client's own retries): their orders count as never sent. */
  failedSends = 0;
  lastError?: string;
  readonly minute = aQuietMinute();
  readonly product = `fault-${randomUUID().slice(0, 8)}`;

  private streaming?: Promise<void>;
  private streamStopped = false;

  private constructor(
    private readonly producer: Producer,
    private readonly receipt: SendReceipt,
    private readonly productPerOrder: boolean,
  ) {}

  /** `productPerOrder`: each order its own product (many products in one minute), else all of one product. */
  static async connect(brokers: string, { productPerOrder = false } = {}): Promise<OutsideOrders> {
    // kafkajs can resolve a send it did not finish when a broker dies (see SendReceipt): such a send
    // counts as failed here, as it does in the app's relay, so its orders are not counted as sent.
    const receipt = new SendReceipt();
    const producer = kafkaOf(brokers, 'nestream-faults-outside').producer({
      maxInFlightRequests: 1,
      createPartitioner: receipt.partitioner,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    return new OutsideOrders(producer, receipt, productPerOrder);
  }

  /** Sends `count` orders, `batch` per request; keyed by id, so they spread over the partitions. */
  async send(count: number, batch = 50): Promise<void> {
    for (let done = 0; done < count; done += batch) {
      const orders = Array.from({ length: Math.min(batch, count - done) }, (_, i) =>
        anOrderAt(this.minute, { product: this.productPerOrder ? `${this.product}-${done + i}` : this.product, amount: 10 }),
      );
      const messages = orders.map((o) => ({ key: String(o.id), value: JSON.stringify(o) }));
      const answers = await this.producer.send({ topic: Topics.OrderPlaced, compression: CompressionTypes.None, acks: -1, messages });
      const missing = this.receipt.unanswered([{ topic: Topics.OrderPlaced, messages }], answers);
      if (missing.length > 0) throw new Error(`partitions ${missing.join(', ')} never answered the send`);
      this.sent.push(...orders.map((o) => o.id));
    }
  }

  /** Keeps sending small batches at about `ratePerSecond` orders a second until stopStream(). */
  startStream(ratePerSecond: number, batch = 10): this {
    this.streaming = (async () => {
      while (!this.streamStopped) {
        const started = Date.now();
        await this.send(batch, batch).catch((err: Error) => {
          this.failedSends += 1;
          this.lastError = err.message;
        });
        const rest = (batch * 1000) / ratePerSecond - (Date.now() - started);
        if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
      }
    })();
    return this;
  }

  /** Stops the stream and waits for the send in flight. */
  async stopStream(): Promise<void> {
    this.streamStopped = true;
    await this.streaming;
  }

  async close(): Promise<void> {
    this.streamStopped = true;
    await this.streaming?.catch(() => undefined);
    await this.producer.disconnect();
  }
}
