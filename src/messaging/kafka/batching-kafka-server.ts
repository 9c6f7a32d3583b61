import { Logger } from '@nestjs/common';
import { KafkaOptions, MessageHandler, ServerKafka } from '@nestjs/microservices';
import type { Consumer, ConsumerSubscribeTopics, EachBatchPayload, Kafka } from 'kafkajs';
import { isObservable, lastValueFrom } from 'rxjs';
import { HandlerExtras } from './consumer-groups';
import { ConsumerWatchdog, withDeadline } from './consumer-watchdog';
import { KafkaBatchContext, KafkaMessage } from './kafka-batch-context';
import { brokerAnswer } from './kafka-errors';
import { OffsetCommits } from './offset-commits';
import { PartitionActivity, PartitionOffsets, shownPartition, topicPartitionOf } from './partition-activity';
import { SkipGuard } from './skip-guard';

/**
 * Nest's Kafka transport, fed by kafkajs `eachBatch` instead of `eachMessage`, with each `@EventPattern`
 * handler called once per chunk of a fetched batch (a KafkaBatchContext holds the chunk's records)
 * instead of once per record. Nest's proxy (guards, pipes, interceptors, filters) and the consumer
 * pipeline's promises then cost once per chunk and handler: with five handlers on order_placed they were
 * about a quarter of what the app allocated while ingesting. The consumer pipeline commits a chunk's
 * effects in one transaction per consumer (see EventConsumer). Request/reply patterns stay Nest's own,
 * record by record.
 *
 * A fetched batch can hold thousands of records; they are handed out `chunkSize` at a time, so memory
 * stays bounded and a shutdown or rebalance waits for one chunk, not the whole batch. A partition's
 * next chunk starts only after this one settles, and offsets are resolved in order, up to the first
 * record a handler failed: kafkajs then delivers the rest again, and the consumers' inbox drops what
 * was already applied.
 *
 * Several handlers of one topic are called side by side (Promise.all) instead of through the chain
 * Nest builds for them, which joins their results with nested rxjs `forkJoin`s (rxjs was 8 % of the
 * app's CPU while ingesting).
 *
 * One server runs one consumer group (see consumer-groups.ts): it takes the handlers that name it
 * (`@EventPattern(topic, inGroup(name))`) and leaves the others to their own servers, so each group
 * has its own kafkajs consumer, fetches and position.
 *
 * A watchdog restarts the consumer when a partition with records waiting gets no batch for
 * `stallRestartMs` (see ConsumerWatchdog), and a partition whose position moved past records this
 * instance never handled goes back to them (see SkipGuard). Offsets are committed on an interval
 * rather than after every batch (see OffsetCommits).
 */
// Routes remembered (one per subscribed topic in practice).
const MAX_ROUTES = 1_000;

export interface BatchingSettings {
  /** Records handed to the handlers at once. */
  chunkSize: number;
  /** A partition with records waiting and no batch for this long restarts the consumer; 0: never. */
  stallRestartMs?: number;
  /** How often offsets are committed; 0: after every batch, as kafkajs does. */
  commitIntervalMs?: number;
}

export class BatchingKafkaServer extends ServerKafka {
  private readonly log: Logger;
  private readonly activity = new PartitionActivity();
  private readonly skips = new SkipGuard();
  private readonly commits: OffsetCommits;
  private readonly chunkSize: number;
  private readonly stallRestartMs: number;
  private readonly watched = new WeakSet<Consumer>();
  private watchdog?: ConsumerWatchdog;
  private closing = false;
  private restarting = false;
  /** Crashes kafkajs did not restart the consumer after: a restart that sees this move failed. */
  private crashesLeftStopped = 0;
  private readonly recentGiveUps: number[] = [];
  private pendingRestart?: NodeJS.Timeout;
  private restartRun?: Promise<void>;
  private endRestartPause?: () => void;
  private readonly routes = new Map<string, string>();
  /** Every event handler of a route, in registration order (Nest keeps the first, without its chain). */
  private readonly eventHandlers = new Map<string, MessageHandler[]>();

  constructor(
    options: Required<KafkaOptions>['options'],
    /** The group (of ConsumerGroups) whose handlers this server runs. */
    readonly groupName: string,
    settings: BatchingSettings,
  ) {
    super(options);
    // Several servers run side by side: each line says whose consumer it is about.
    this.log = new Logger(`Kafka ${groupName}`);
    this.chunkSize = settings.chunkSize;
    this.stallRestartMs = settings.stallRestartMs ?? 0;
    this.commits = new OffsetCommits(settings.commitIntervalMs ?? 0, this.log);
  }

  /** The Kafka group id it consumes under. */
  get group(): string {
    return this.groupId;
  }

  /** The topics its consumer subscribes to. */
  get topics(): string[] {
    return [...this.messageHandlers.keys()];
  }

  override async bindEvents(consumer: Consumer): Promise<void> {
    this.watch(consumer);
    const topics = this.topics;
    if (topics.length > 0) await subscribeWhenKnown(consumer, { ...(this.options.subscribe ?? {}), topics });
    await consumer.run({
      ...(this.options.run ?? {}),
      ...this.commits.runOptions(),
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    if (!this.closing) this.commits.start();
  }

  /**
   * Nest turns a record's topic into its route with JSON.parse, which throws for a plain topic name
   * (3 % of the CPU while ingesting, when it ran three times per record). The answer depends on the topic alone.
   */
  protected override getRouteFromPattern(pattern: string): string {
    let route = this.routes.get(pattern);
    if (route === undefined) {
      route = super.getRouteFromPattern(pattern);
      if (this.routes.size < MAX_ROUTES) this.routes.set(pattern, route);
    }
    return route;
  }

  /**
   * Event handlers of a route are kept side by side here rather than chained by Nest (`next`), so a
   * chunk reaches each of them once, from handleChunk. Nest's map keeps the first one: the topic
   * is subscribed from it.
   */
  override addHandler(pattern: unknown, callback: MessageHandler, isEventHandler = false, extras: Record<string, unknown> = {}): void {
    const group = (extras as HandlerExtras).group;
    // Every server is offered every handler: one that names no group would run in none.
    if (!group) throw new Error(`the handler of ${String(pattern)} names no consumer group: give it inGroup(<name>) as its pattern's extras`);
    if (group !== this.groupName) return;
    if (!isEventHandler || pattern instanceof RegExp) return super.addHandler(pattern, callback, isEventHandler, extras);
    const route = this.normalizePattern(pattern as string);
    callback.isEventHandler = true;
    callback.extras = extras;
    const handlers = this.eventHandlers.get(route);
    if (handlers) handlers.push(callback);
    else {
      this.eventHandlers.set(route, [callback]);
      this.messageHandlers.set(route, callback);
    }
  }

  /**
   * A chunk of one partition's records to every event handler of its topic, one call each; how many of
   * the records, from the first, every handler handled, and why the next one failed. Anything else
   * (request/reply) is Nest's, record by record.
   */
  private async handleChunk(topic: string, partition: number, chunk: EachBatchPayload['batch']['messages'], heartbeat: () => Promise<void>, pause: EachBatchPayload['pause']): Promise<ChunkOutcome> {
    const handlers = this.eventHandlers.get(this.getRouteFromPattern(topic));
    if (!handlers) {
      const outcomes = await Promise.allSettled(chunk.map((message) => this.handleMessage({ topic, partition, message, heartbeat, pause })));
      const failed = outcomes.findIndex((outcome) => outcome.status === 'rejected');
      return failed < 0 ? { handled: chunk.length } : { handled: failed, reason: (outcomes[failed] as PromiseRejectedResult).reason };
    }
    // The context holds the records as kafkajs read them. Nest's parser turns a key or header value that
    // looks like JSON into an object (Kafka Connect's keys, Spring's type headers), which then read back
    // as "[object Object]" in dead letters and replays; the pipeline decodes the bytes itself.
    const messages = chunk.map((message) => Object.assign(message, { topic, partition }) as unknown as KafkaMessage);
    // What Nest's parser and deserializer make of each record, in order: @Payload() of a chunk.
    const packets = await Promise.all(messages.map((message) => this.deserializer.deserialize(this.parser!.parse(message), { channel: topic })));
    const data = packets.map((packet) => packet.data);
    const outcomes = await Promise.all(
      handlers.map(async (handler): Promise<ChunkOutcome> => {
        const context = new KafkaBatchContext(messages, partition, topic, this.consumer!, heartbeat, this.producer!);
        let rejected: { reason: unknown } | undefined;
        try {
          await this.runWithProcessingHooks(context, async (runEndHook) => {
            await settle(handler(data, context));
            runEndHook();
          });
        } catch (reason) {
          rejected = { reason };
        }
        const failure = context.firstFailure();
        if (failure) return { handled: failure.index, reason: failure.reason };
        return rejected ? { handled: 0, reason: rejected.reason } : { handled: chunk.length };
      }),
    );
    return outcomes.reduce((first, outcome) => (outcome.handled < first.handled ? outcome : first));
  }

  override async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.pendingRestart);
    this.endRestartPause?.();
    // A restart connecting now stops at its next step; the broker may be what is down, so 5 s at most.
    await withDeadline(this.restartRun ?? Promise.resolve(), CLOSE_DEADLINE_MS).catch(() => undefined);
    this.commits.stop();
    // A batch that ends from now on commits itself (handleBatch): this commits what ended before. The
    // broker may be what is down: the close waits for it 5 s at most.
    await withDeadline(this.commits.flush(), CLOSE_DEADLINE_MS).catch((err: Error) =>
      this.log.warn(`offsets not committed on close, the next owner gets those records again: ${err.message}`),
    );
    await this.watchdog?.stop();
    await super.close();
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, isRunning } = payload;
    if (this.wentBack(batch, resolveOffset)) return this.commits.afterBatch(payload, true);
    let failure: { reason: unknown } | undefined;
    try {
      await this.handleRecords(payload);
    } catch (reason) {
      failure = { reason };
    }
    // A failed batch commits what it got through at once, as kafkajs does; so does one ending while the consumer stops.
    const now = failure !== undefined || this.closing || !isRunning();
    try {
      await this.commits.afterBatch(payload, now);
    } catch (err) {
      if (!failure) throw err;
      this.log.debug(`offsets not committed after a failed batch: ${(err as Error).message}`);
    }
    if (failure) throw failure.reason;
  }

  private async handleRecords({ batch, heartbeat, pause, resolveOffset, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition, messages } = batch;
    let handledUpTo: bigint | undefined;
    this.activity.batchStarted(topic, partition, Date.now());
    try {
      for (let start = 0; start < messages.length; start += this.chunkSize) {
        // On shutdown or a rebalance, records not yet handed out are left for the next owner.
        if (!isRunning() || isStale()) return;
        const chunk = messages.slice(start, start + this.chunkSize);
        const outcome = await this.handleChunk(topic, partition, chunk, heartbeat, pause);
        if (outcome.handled > 0) {
          const last = chunk[outcome.handled - 1].offset;
          resolveOffset(last);
          handledUpTo = BigInt(last) + 1n;
          // Before any commit of it (the commit timer may run mid-batch), or the watchdog's look would see a skip.
          this.skips.handled(topic, partition, handledUpTo);
        }
        if (outcome.handled < chunk.length) throw outcome.reason;
        await heartbeat();
      }
      // Resolving the last record resolves the batch's trailing control records too (kafkajs does so).
      handledUpTo = BigInt(batch.lastOffset()) + 1n;
      this.skips.handled(topic, partition, handledUpTo);
    } finally {
      this.activity.batchEnded(topic, partition, Date.now(), handledUpTo);
    }
  }

  /**
   * A batch fetched from past records this instance never handled is not handled: the partition's
   * position is resolved back to them instead (a resolved offset may go back; the next fetch starts
   * there, and needs no answer from the group coordinator, which may be what is down).
   */
  private wentBack(batch: EachBatchPayload['batch'], resolveOffset: (offset: string) => void): boolean {
    const { topic, partition } = batch;
    // Where kafkajs fetched from; the batch itself may start later (records compacted away).
    const position = BigInt((batch as { fetchedOffset?: string }).fetchedOffset ?? batch.firstOffset() ?? batch.lastOffset());
    const verdict = this.skips.fetched(topic, partition, position);
    if (!verdict.skipped) return false;
    const where = shownPartition(topic, partition);
    if (verdict.givenUp) {
      this.log.error(`${where}: records ${verdict.to} to ${position - 1n} cannot be fetched (${verdict.tries - 1} tries); going on from ${position}`);
      return false;
    }
    this.log.error(`${where}: fetched from ${position}, past records from ${verdict.to} this instance never handled; going back to ${verdict.to} (try ${verdict.tries})`);
    resolveOffset(String(verdict.to - 1n));
    return true;
  }

  /** The watchdog's look: a quiet partition placed past what was handled gets no batch to tell, so it is sent back here. */
  private sendBackCommittedPast(offsets: PartitionOffsets[]): void {
    for (const { key, ...position } of offsets) {
      const to = this.skips.behind(key, position);
      if (to === undefined) continue;
      const { topic, partition } = topicPartitionOf(key);
      const where = shownPartition(topic, partition);
      const what = position.groupCommitted ? `the group's position ${position.committed}` : `its start at ${position.committed} (never committed, consumer restarted)`;
      this.log.error(`${where}: ${what} is past records from ${to} this instance never handled; seeking back to ${to}`);
      try {
        this.consumer?.seek({ topic, partition, offset: String(to) });
      } catch (err) {
        // Not running (between a crash and kafkajs' restart of it): the next look tries again.
        this.log.warn(`${where}: cannot seek back yet: ${(err as Error).message}`);
      }
    }
  }

  /** Follows the consumer's assignment, and starts the watchdog once the transport has a client. */
  private watch(consumer: Consumer): void {
    if (this.watched.has(consumer)) return;
    this.watched.add(consumer);
    const { GROUP_JOIN, REBALANCING, STOP, CRASH, START_BATCH_PROCESS } = consumer.events;
    consumer.on(GROUP_JOIN, ({ payload }) => {
      this.activity.assign(payload.memberAssignment, Date.now());
      this.skips.keepOnly(payload.memberAssignment);
    });
    // A batch of control records only never reaches handleBatch: kafkajs resolves it itself.
    consumer.on(START_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize === 0) this.skips.handled(payload.topic, payload.partition, BigInt(payload.lastOffset) + 1n);
    });
    for (const event of [REBALANCING, STOP, CRASH]) consumer.on(event, () => this.activity.clear());
    for (const event of [STOP, CRASH]) consumer.on(event, () => this.commits.forget());
    // kafkajs commits nothing itself with autoCommit off: what was handled goes before the group rejoins
    // (a commit of the generation ending is still accepted; a late one is refused, and redelivered).
    consumer.on(REBALANCING, () => void this.commits.flush().catch((err: Error) => this.log.debug(`offsets not committed before the rebalance: ${err.message}`)));
    consumer.on(CRASH, ({ payload }) => {
      this.skips.restarted();
      if (!payload.restart) this.leftStopped(payload.error);
    });
    if (this.stallRestartMs > 0 && this.client && !this.watchdog) {
      // Nest types the client with its own copy of kafkajs' interfaces; it is kafkajs' Kafka.
      const kafka = this.client as unknown as Kafka;
      const fromBeginning = this.options.subscribe?.fromBeginning ?? false;
      this.watchdog = new ConsumerWatchdog(
        kafka,
        this.groupId,
        this.activity,
        this.stallRestartMs,
        (reason) => this.restart(reason),
        fromBeginning,
        (offsets) => this.sendBackCommittedPast(offsets),
      );
      this.watchdog.start();
    }
  }

  /**
   * kafkajs restarts a crashed consumer only after a retriable error; after any other (the group
   * coordinator not found while joining, as a CI run saw right after a watchdog restart) it leaves the
   * consumer disconnected for good, and this instance would consume nothing more. Restarted here,
   * later each time it keeps happening, so a consumer that crashes at once is not restarted in a loop.
   */
  private leftStopped(error: Error): void {
    this.crashesLeftStopped += 1;
    if (this.closing || this.restarting) return; // a restart under way sees the crash and tries again
    const now = Date.now();
    while (this.recentGiveUps.length > 0 && now - this.recentGiveUps[0] > GIVE_UP_WINDOW_MS) this.recentGiveUps.shift();
    this.recentGiveUps.push(now);
    const delayMs = restartDelayMs(this.recentGiveUps.length - 1);
    const reason = `it crashed and kafkajs will not restart it (${error.name}: ${error.message})`;
    this.log.error(`the consumer stopped for good: restarting it in ${delayMs} ms`);
    clearTimeout(this.pendingRestart);
    this.pendingRestart = setTimeout(() => void this.restart(reason), delayMs);
  }

  /**
   * Disconnects the consumer (it leaves the group) and runs it again: new connections, cluster metadata
   * read afresh and a new fetch state, starting from the committed offsets. Tried until it runs again or
   * the app closes: a stopped consumer must not stay so.
   */
  private restart(reason: string): Promise<void> {
    const consumer = this.consumer;
    if (!consumer || this.closing || this.restarting) return Promise.resolve();
    this.restarting = true;
    // close() waits for it: a restart that connected as the app closed must not join the group after.
    this.restartRun = this.runRestart(consumer, reason);
    return this.restartRun;
  }

  private async runRestart(consumer: Consumer, reason: string): Promise<void> {
    this.log.error(`restarting the consumer: ${reason}`);
    try {
      for (let attempt = 1; !this.closing; attempt += 1) {
        try {
          this.activity.clear();
          this.skips.restarted();
          // Not committed first: the broker may be what is wrong. The inbox drops what comes again.
          this.commits.forget();
          // A stop alone keeps kafkajs' cached metadata, which may be what left partitions unfetched.
          await consumer.disconnect();
          if (this.closing) return;
          await consumer.connect();
          // The app began closing meanwhile: close() disconnects it once this returns.
          if (this.closing) return;
          const crashes = this.crashesLeftStopped;
          await this.bindEvents(consumer);
          // kafkajs' run resolves even when joining the group crashed it (it catches that itself).
          if (this.crashesLeftStopped !== crashes) throw new Error('the consumer crashed while joining its group');
          this.log.warn('consumer restarted');
          return;
        } catch (err) {
          if (this.closing) return;
          this.log.error(`restarting the consumer failed (attempt ${attempt}), trying again: ${(err as Error).message}`);
          // Cut short by close(), which must not wait out a 30 s pause.
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, restartDelayMs(attempt));
            this.endRestartPause = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          this.endRestartPause = undefined;
        }
      }
    } finally {
      this.restarting = false;
    }
  }
}

const GIVE_UP_WINDOW_MS = 5 * 60_000;
const CLOSE_DEADLINE_MS = 5_000;

/** 0.5 s, doubling with each try, at most 30 s. */
function restartDelayMs(tries: number): number {
  return Math.min(30_000, 500 * 2 ** tries);
}

/** How many records of a chunk, from the first, were handled; why the next one was not. */
interface ChunkOutcome {
  handled: number;
  reason?: unknown;
}

/** A handler's outcome: Nest's proxy answers a failure with a stream that errors, so it is awaited too. */
async function settle(result: unknown): Promise<void> {
  const value = await result;
  if (isObservable(value)) await lastValueFrom(value, { defaultValue: undefined });
}

/** How long start-up waits for every broker to know a topic the app has just created. */
export const SUBSCRIBE_DEADLINE_MS = 30_000;

/**
 * Subscribes, asking again while the broker answers with a retriable error. On a cluster, a topic the
 * app created a moment ago can be unknown to the broker the consumer asks ("This server does not host
 * this topic-partition") until the controller's metadata reaches it; kafkajs gives up on that at once.
 */
export async function subscribeWhenKnown(consumer: Consumer, subscription: ConsumerSubscribeTopics, deadlineMs = SUBSCRIBE_DEADLINE_MS): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (let wait = 100; ; wait = Math.min(wait * 2, 2_000)) {
    try {
      return await consumer.subscribe(subscription);
    } catch (err) {
      if (!brokerAnswer(err).retriable || Date.now() + wait > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
