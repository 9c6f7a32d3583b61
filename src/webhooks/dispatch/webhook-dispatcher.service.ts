import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { appConfig, AppConfig } from '../../config/app.config';
import { Metrics } from '../../observability/metrics';
import { UnitOfWork } from '../../messaging/unit-of-work';
import { WakeSignal } from '../../messaging/wake-signal';
import { SubscriptionDisabler } from '../subscriptions/subscription-disabler.service';
import { SubscriptionsRepository } from '../subscriptions/subscriptions.repository';
import { ClaimedDelivery, Completion, DeliveryQueue } from './delivery-queue';
import { decide, Decision, RetryPolicy } from './retry-policy';
import { SendResult, WebhookSender } from './webhook-sender';

const MAX_BACKOFF_MS = 5_000;
// Most results recorded in one transaction.
const RECORD_BATCH = 100;
// Retries due sooner than this get a timer; later ones are found by the poll.
const TIMER_HORIZON_MS = 60_000;

/**
 * The background loop that sends webhooks: claims due deliveries from Postgres (leases, so instances
 * never send the same attempt twice), sends each, and records the attempt and what follows (success,
 * a retry at its scheduled time, failure, disabling the subscription). Woken by new deliveries and
 * finished attempts, with a poll as fallback; on shutdown it stops claiming and lets requests in
 * flight finish and be recorded.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private readonly policy: RetryPolicy;
  private readonly settings: AppConfig['webhooks'];
  private readonly enabled: boolean;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private running = false;
  private loop?: Promise<void>;
  private readonly signal = new WakeSignal();
  private rounds = 0;
  private delivered = 0;
  /** Results waiting to be recorded, and the recording under way. */
  private readonly finished: Finished[] = [];
  private recording?: Promise<void>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly uow: UnitOfWork,
    private readonly queue: DeliveryQueue,
    private readonly sender: WebhookSender,
    private readonly subscriptions: SubscriptionsRepository,
    private readonly disabler: SubscriptionDisabler,
    private readonly metrics: Metrics,
    @Inject(appConfig.KEY) config: AppConfig,
  ) {
    this.settings = config.webhooks;
    // An api-only process queues deliveries but leaves sending them to the workers (they poll).
    this.enabled = config.role.runsBackgroundJobs;
    this.policy = config.webhooks.retry;
  }

  /** New deliveries are waiting (or a line moved): claim now instead of at the next poll. */
  wake(): void {
    this.signal.wake();
  }

  /** Claim rounds run so far: lets a test wait for the dispatcher to have looked again. */
  get claimRounds(): number {
    return this.rounds;
  }

  /** Deliveries that succeeded on this instance. */
  get deliveredCount(): number {
    return this.delivered;
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Runs before the database pool closes: no new claims, and every request in flight is recorded. */
  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    this.signal.close();
    await this.loop;
    await Promise.all(this.inFlight);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      const slots = this.settings.dispatchConcurrency - this.inFlight.size;
      if (slots > 0) {
        let claimed: ClaimedDelivery[];
        try {
          claimed = await this.queue.claim(this.dataSource.manager, {
            endpointConcurrency: this.settings.endpointConcurrency,
            slots,
            leaseMs: this.settings.leaseMs,
          });
          if (failures > 0) this.logger.log(`webhook dispatcher recovered after ${failures} failed claim(s)`);
          failures = 0;
        } catch (err) {
          failures += 1;
          if (failures === 1 || failures % 20 === 0) this.logger.warn(`webhook dispatcher cannot claim deliveries (attempt ${failures}): ${(err as Error).message}`);
          await this.signal.sleep(Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(failures, 10)));
          continue;
        }
        for (const delivery of claimed) this.start(delivery);
      }
      this.rounds += 1;
      // A finished request, a new delivery or the poll interval, whichever comes first.
      await this.signal.sleep(this.settings.pollIntervalMs);
    }
  }

  private start(delivery: ClaimedDelivery): void {
    const done: Promise<void> = this.deliver(delivery).finally(() => {
      this.inFlight.delete(done);
      // A slot is free and the entity's next delivery may now be at the head of its line.
      this.wake();
    });
    this.inFlight.add(done);
  }

  private async deliver(d: ClaimedDelivery): Promise<void> {
    const result = await this.sender.send({ url: d.url, messageId: d.messageId, body: d.body, secrets: d.secrets, traceparent: d.traceparent });
    const decision = decide(this.policy, d.attemptInRun, result);
    this.metrics.webhookAttempt(decision.kind === 'succeeded' ? 'succeeded' : 'failed', result.durationMs / 1000);
    await new Promise<void>((done) => {
      this.finished.push({ delivery: d, result, decision, next: completionOf(decision), done });
      this.recordSoon();
    });
  }

  /**
   * Results are recorded in batches: the requests that finished while the last batch was being
   * recorded share one transaction (a few statements for the lot, not six per delivery).
   */
  private recordSoon(): void {
    if (this.recording) return;
    this.recording = (async () => {
      while (this.finished.length > 0) await this.record(this.finished.splice(0, RECORD_BATCH));
    })().finally(() => {
      this.recording = undefined;
      if (this.finished.length > 0) this.recordSoon();
    });
  }

  private async record(batch: Finished[]): Promise<void> {
    let owned: boolean[];
    // Subscriptions whose results are all successes (the usual case) are noted with the results, in
    // the same statement. Should it ever deadlock with another recording over a subscription row of
    // the loop below, the batch is recorded result by result (catch).
    const bySubscription = new Map<number, Finished[]>();
    for (const f of batch) {
      const results = bySubscription.get(f.delivery.subscriptionId);
      if (results) results.push(f);
      else bySubscription.set(f.delivery.subscriptionId, [f]);
    }
    const allSucceeded = [...bySubscription].filter(([, results]) => results.every((f) => f.decision.kind === 'succeeded')).map(([id]) => id);
    const succeeded = new Set(allSucceeded);
    // The others one by one, in id order (the order every transaction takes their row locks in).
    const mixed = [...bySubscription.keys()].filter((id) => !succeeded.has(id)).sort((a, b) => a - b);
    try {
      // Nothing but successes: one statement, no transaction around it.
      if (mixed.length === 0) owned = await this.queue.complete(this.dataSource.manager, batch, allSucceeded);
      else
        owned = await this.uow.run(async (tx) => {
          const ours = await this.queue.complete(tx.em, batch, allSucceeded);
          const recorded = new Set(batch.filter((_, i) => ours[i]));
          for (const id of mixed) {
            let lastSucceeded = false;
            // Each one's results in the order they came.
            for (const f of bySubscription.get(id)!) {
              if (!recorded.has(f)) continue;
              const { decision } = f;
              if (decision.kind === 'succeeded') {
                // Consecutive successes change nothing after the first.
                if (!lastSucceeded) await this.subscriptions.recordSuccess(tx.em, id);
              } else if (decision.kind === 'gone') {
                await this.disabler.disable(tx, id, 'the endpoint answered 410 Gone');
              } else if (await this.subscriptions.recordFailure(tx.em, id, this.settings.disableAfterMs)) {
                await this.disabler.disable(tx, id, `no successful delivery for ${this.settings.disableAfterMs / 3_600_000} hours`);
              }
              lastSucceeded = decision.kind === 'succeeded';
            }
          }
          return ours;
        });
    } catch (err) {
      // One result that cannot be recorded must not cost the others theirs: each is tried on its own.
      if (batch.length > 1) {
        for (const f of batch) await this.record([f]);
        return;
      }
      // Nothing is lost: the lease expires and the delivery is tried again, with the same webhook-id.
      for (const { delivery } of batch) {
        this.logger.error(`webhook delivery ${delivery.id}: attempt ${delivery.attempt} could not be recorded: ${(err as Error).message}`);
      }
      for (const f of batch) f.done();
      return;
    }
    batch.forEach((f, i) => {
      // Not ours when the lease ran out and another instance took over: its outcome will count.
      if (owned[i]) {
        this.log(f.delivery, f.result, f.decision);
        if (f.decision.kind === 'succeeded') this.delivered += 1;
        if (f.next.retryInMs !== undefined) this.wakeIn(f.next.retryInMs);
      }
      f.done();
    });
  }

  private log(d: ClaimedDelivery, result: SendResult, decision: Decision): void {
    // Never the URL (it may carry a token) nor anything signed.
    const outcome = result.statusCode !== undefined ? `HTTP ${result.statusCode}` : result.error;
    const what = `webhook delivery ${d.id} (${d.eventType}) to webhook ${d.subscriptionId}, attempt ${d.attempt}: ${outcome}`;
    if (decision.kind === 'succeeded') this.logger.debug(what);
    else if (decision.kind === 'retry') this.logger.debug(`${what}; retrying in ${decision.delayMs} ms`);
    else this.logger.warn(`${what}; ${decision.kind === 'gone' ? 'endpoint is gone' : 'retries exhausted'}`);
  }

  private wakeIn(ms: number): void {
    if (ms > TIMER_HORIZON_MS || !this.running) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.wake();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

}

interface Finished {
  delivery: ClaimedDelivery;
  result: SendResult;
  decision: Decision;
  next: Completion;
  /** Resolves the delivery's promise once its result is recorded (or could not be). */
  done: () => void;
}

function completionOf(decision: Decision): Completion {
  switch (decision.kind) {
    case 'succeeded':
      return { status: 'succeeded' };
    case 'retry':
      return { status: 'pending', retryInMs: decision.delayMs };
    default:
      return { status: 'failed' };
  }
}
