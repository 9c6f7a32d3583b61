import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { appConfig, AppConfig } from '../config/app.config';
import type { ConsumedEvent } from '../messaging/consumer/event-consumer.service';
import { collectBeforeCommit } from '../persistence/transaction-hooks';
import { lockForTransaction } from '../persistence/transaction-lock';

/** Serialises feed inserts so ids become visible in id order (see record). */
const FEED_LOCK = 7_310_200;
const PAGE = 500;
const PRUNE_INTERVAL_MS = 10 * 60_000;

/** One consumed event as the stream sends it; `id` is the SSE event id clients resume from. */
export interface LiveEvent {
  id: number;
  eventId: string;
  type: string;
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  occurredAt: string;
  consumedAt: string;
  payload: unknown;
}

export interface FeedFilter {
  /** Only these event types; all when absent. */
  types?: string[];
}

/** A listener of the feed: called with each batch of new events, in id order. */
export interface FeedSubscriber {
  filter: FeedFilter;
  cursor: number;
  /** Sends the events; a promise when the client must catch up first, before the feed reads more. */
  deliver(events: LiveEvent[]): Promise<void> | void;
  /** Ends the subscriber's stream (the app is shutting down). */
  close(): void;
}

/**
 * The live feed behind `GET /events/stream`. The consumer records every consumed event in
 * `live_events`; each instance tails that table, so a client sees every event whoever consumed it,
 * and resumes after the last id it saw (`Last-Event-ID`).
 */
@Injectable()
export class LiveFeedService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(LiveFeedService.name);
  private readonly subscribers = new Set<FeedSubscriber>();
  private readonly pumping = new Map<FeedSubscriber, Promise<void>>();
  /** Subscribers told of new events while their pump ran: it reads once more before it ends. */
  private readonly again = new Set<FeedSubscriber>();
  private pollTimer?: NodeJS.Timeout;
  private pruneTimer?: NodeJS.Timeout;
  private latest = 0;
  private checking = false;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.pruneTimer = setInterval(() => void this.prune(), PRUNE_INTERVAL_MS);
    this.pruneTimer.unref();
    void this.prune();
  }

  onModuleDestroy(): void {
    clearInterval(this.pollTimer);
    clearInterval(this.pruneTimer);
    // Open streams would keep the HTTP server from closing.
    for (const s of this.subscribers) s.close();
    this.subscribers.clear();
  }

  /**
   * Records a consumed event, inside the consumer's transaction. The events of a batch are inserted
   * together at its end, under an advisory lock held until the transaction commits, so ids are handed
   * out and committed in the same order: a reader that has seen id n can never later find a committed
   * row below n, which is what makes resume-by-id lossless.
   */
  async record(em: EntityManager, e: ConsumedEvent<Record<string, unknown>>): Promise<void> {
    collectBeforeCommit(em, 'live.feed', e, async (batch) => {
      await lockForTransaction(em, FEED_LOCK);
      await em.query(
        `INSERT INTO live_events (event_id, type, topic, "partition", "offset", key, payload, occurred_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::bigint[], $6::text[], $7::jsonb[], $8::timestamptz[])
         ON CONFLICT (event_id) DO NOTHING`,
        [
          batch.map((b) => b.id),
          batch.map((b) => b.type),
          batch.map((b) => b.topic),
          batch.map((b) => b.partition),
          batch.map((b) => b.offset),
          batch.map((b) => b.key),
          batch.map((b) => JSON.stringify(b.payload)),
          batch.map((b) => b.occurredAt),
        ],
      );
    });
  }

  /** The newest id, where a client that asks for no history starts. */
  async lastId(): Promise<number> {
    const [row] = await this.dataSource.query(`SELECT coalesce(max(id), 0)::text AS id FROM live_events`);
    return Number(row.id);
  }

  /** The `count` most recent events matching the filter, oldest first. */
  async recent(filter: FeedFilter, count: number): Promise<LiveEvent[]> {
    if (count <= 0) return [];
    const rows = await this.dataSource.query(
      `SELECT * FROM (SELECT * FROM live_events WHERE ($1::text[] IS NULL OR type = ANY($1)) ORDER BY id DESC LIMIT $2) r ORDER BY id`,
      [filter.types ?? null, count],
    );
    return rows.map(toLiveEvent);
  }

  subscribe(subscriber: FeedSubscriber): () => void {
    this.subscribers.add(subscriber);
    if (!this.pollTimer) {
      this.pollTimer = setInterval(() => void this.check(), this.config.live.pollIntervalMs);
      this.pollTimer.unref();
    }
    void this.pump(subscriber);
    return () => {
      this.subscribers.delete(subscriber);
      if (this.subscribers.size === 0) {
        clearInterval(this.pollTimer);
        this.pollTimer = undefined;
      }
    };
  }

  /** Called after this instance committed an event, so its own clients need not wait for the poll. */
  wake(): void {
    if (this.subscribers.size > 0) void this.check();
  }

  /** One cheap query per tick for all clients; each client reads only when something is new. */
  private async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const latest = await this.lastId();
      if (latest !== this.latest) {
        this.latest = latest;
        for (const s of this.subscribers) void this.pump(s);
      }
    } catch (err) {
      this.logger.warn(`live feed poll failed: ${(err as Error).message}`);
    } finally {
      this.checking = false;
    }
  }

  /**
   * Sends a subscriber everything after its cursor. One pump per subscriber at a time; news arriving
   * while it runs (or waits for a slow client) makes it read once more, rather than queueing a pump per
   * poll for as long as the client is behind.
   */
  private pump(s: FeedSubscriber): Promise<void> {
    const running = this.pumping.get(s);
    if (running) {
      this.again.add(s);
      return running;
    }
    if (!this.subscribers.has(s)) return Promise.resolve();
    const run = this.readFor(s)
      .catch((err: Error) => this.logger.warn(`live feed read failed: ${err.message}`))
      .finally(() => {
        this.pumping.delete(s);
        // News that came after the last look, while the run was ending.
        if (this.again.delete(s)) void this.pump(s);
      });
    this.pumping.set(s, run);
    return run;
  }

  private async readFor(s: FeedSubscriber): Promise<void> {
    do {
      this.again.delete(s);
      while (this.subscribers.has(s)) {
        const rows = await this.dataSource.query(
          `SELECT * FROM live_events WHERE id > $1 AND ($2::text[] IS NULL OR type = ANY($2)) ORDER BY id LIMIT $3`,
          [s.cursor, s.filter.types ?? null, PAGE],
        );
        if (rows.length === 0) break;
        const events: LiveEvent[] = rows.map(toLiveEvent);
        s.cursor = events[events.length - 1].id;
        await s.deliver(events);
        if (rows.length < PAGE) break;
      }
    } while (this.again.has(s) && this.subscribers.has(s));
  }

  private async prune(): Promise<void> {
    try {
      await this.dataSource.query(`DELETE FROM live_events WHERE consumed_at < now() - make_interval(hours => $1)`, [
        this.config.live.retentionHours,
      ]);
    } catch (err) {
      this.logger.warn(`live feed prune failed: ${(err as Error).message}`);
    }
  }
}

function toLiveEvent(row: {
  id: string;
  event_id: string;
  type: string;
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  occurred_at: Date;
  consumed_at: Date;
  payload: unknown;
}): LiveEvent {
  return {
    id: Number(row.id),
    eventId: row.event_id,
    type: row.type,
    topic: row.topic,
    partition: row.partition,
    offset: String(row.offset),
    key: row.key,
    occurredAt: new Date(row.occurred_at).toISOString(),
    consumedAt: new Date(row.consumed_at).toISOString(),
    payload: row.payload,
  };
}
