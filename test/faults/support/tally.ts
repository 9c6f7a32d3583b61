import { Client } from 'pg';
import { Topics } from '../../../src/events';
import type { ReadRecord } from '../../support/kafka';
import { waitFor } from '../../support/wait-for';
import { groupLag, Offsets, readSince } from './kafka-ledger';
import type { OutsideOrders, UserWriteLoad } from './load';

/**
 * The consumers of user_created / user_updated that act on Nestream's own events: one is consumed once
 * each has it in its inbox (the ingest consumer lets our own events go by without a transaction).
 */
export const USER_EVENT_CONSUMERS = ['live.feed', 'webhooks.fanout'] as const;
export const USER_TOPICS = [Topics.UserCreated, Topics.UserUpdated];

/** A short-lived connection to the faults' database (never held across a fault). */
export async function withDb<T>(work: (db: Client) => Promise<T>): Promise<T> {
  const db = new Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  try {
    return await work(db);
  } finally {
    await db.end();
  }
}

interface StoredEvent {
  eventId: string;
  entityId: number;
  version: number;
  pending: boolean;
  consumedBy: number;
  /** The consumers (of USER_EVENT_CONSUMERS) that have it in their inbox. */
  consumers: string[];
}

async function storedEvents(db: Client, load: UserWriteLoad): Promise<StoredEvent[]> {
  const acknowledgedIds = [...new Set(load.acknowledged.map((w) => String(w.entityId)))];
  const rows = await db.query(
    `WITH ours AS (
       SELECT id::text AS id FROM users WHERE name LIKE $1 || '%'
       UNION SELECT unnest($2::text[])
     )
     SELECT e.event_id, e.entity_id, e.version,
            EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = e.event_id) AS pending,
            ARRAY(SELECT i.consumer FROM inbox i WHERE i.message_id = e.event_id AND i.consumer = ANY($3)) AS consumers
       FROM event_log e JOIN ours ON ours.id = e.entity_id
      WHERE e.entity_type = 'user' AND e.origin = 'nestream'`,
    [`${load.namePrefix}-`, acknowledgedIds, USER_EVENT_CONSUMERS],
  );
  return rows.rows.map((r) => ({
    eventId: r.event_id,
    entityId: Number(r.entity_id),
    version: r.version,
    pending: r.pending,
    consumedBy: r.consumers.length,
    consumers: r.consumers,
  }));
}

/** Ids of the events the load's writes stored (acknowledged or not). */
export function storedEventIds(load: UserWriteLoad): Promise<string[]> {
  return withDb(async (db) => (await storedEvents(db, load)).map((e) => e.eventId));
}

/**
 * Waits (up to a deadline, without failing) until every event the load stored has left the outbox and
 * been consumed by every consumer; the tally that follows reports whatever is still missing.
 */
export async function settleUserWrites(load: UserWriteLoad, timeoutMs = 120_000): Promise<boolean> {
  try {
    await waitFor(
      'every stored event to be published and consumed',
      () =>
        withDb(async (db) => {
          const events = await storedEvents(db, load);
          return events.every((e) => !e.pending && e.consumedBy === USER_EVENT_CONSUMERS.length);
        }),
      { timeoutMs, intervalMs: 500 },
    );
    return true;
  } catch {
    return false;
  }
}

export interface WriteTally {
  /** Writes the API acknowledged (2xx); each commits exactly one event. */
  accepted: number;
  /** Events in the event log for the load's users: the acknowledged ones, plus writes that committed but whose answer never arrived. */
  stored: number;
  unacknowledgedStored: number;
  /** Stored events found on Kafka (distinct ce_id). */
  published: number;
  /** Kafka records of stored events: published plus any republished copies. */
  records: number;
  duplicateRecords: number;
  /** Stored events that every consumer of their topic has processed (inbox row, committed with the effect). */
  consumed: number;
  /** Events that fell out somewhere: acknowledged but not stored, stored but not published, published but not consumed. */
  lost: number;
  /** Where the published but unconsumed ones are, and who missed them: `topic[partition] missing <consumers>: n from offset o`. */
  unconsumedAt: string[];
  /** Stored events some consumer set aside as dead letters (each also missing from `consumed`). */
  deadLettered: number;
  /** Entities whose events of one topic are out of version order on Kafka or in the consumers' live feed. */
  outOfOrder: number;
}

export async function tallyUserWrites(load: UserWriteLoad, records: ReadRecord[]): Promise<WriteTally> {
  return withDb(async (db) => {
    const events = await storedEvents(db, load);
    const stored = new Map(events.map((e) => [`${e.entityId}:${e.version}`, e]));
    const acknowledged = new Set(load.acknowledged.map((w) => `${w.entityId}:${w.version}`));
    const notStored = [...acknowledged].filter((k) => !stored.has(k)).length;

    const ids = new Set(events.map((e) => e.eventId));
    const ours = records.filter((r) => ids.has(r.headers.ce_id));
    const copies = new Map<string, number>();
    for (const r of ours) copies.set(r.headers.ce_id, (copies.get(r.headers.ce_id) ?? 0) + 1);
    const unpublished = events.filter((e) => !copies.has(e.eventId)).length;
    const unconsumedEvents = events.filter((e) => copies.has(e.eventId) && e.consumedBy < USER_EVENT_CONSUMERS.length);
    const unconsumed = unconsumedEvents.length;

    // Order per entity and topic (Kafka orders within a partition only, and each topic has its own):
    // on Kafka (first copy of each event, in offset order) and in the live feed (the order the consumer committed).
    const outOfOrder = new Set<string>();
    const lastOnKafka = new Map<string, number>();
    const seen = new Set<string>();
    for (const r of ours) {
      if (seen.has(r.headers.ce_id)) continue;
      seen.add(r.headers.ce_id);
      const v = Number(r.headers.ce_entityversion);
      const line = `${r.topic}:${r.key}`;
      if (v <= (lastOnKafka.get(line) ?? 0)) outOfOrder.add(r.key!);
      lastOnKafka.set(line, v);
    }
    const feed = await db.query(`SELECT topic, key, (payload->>'version')::int AS version FROM live_events WHERE event_id = ANY($1) ORDER BY id`, [
      [...ids],
    ]);
    const lastInFeed = new Map<string, number>();
    for (const row of feed.rows) {
      const line = `${row.topic}:${row.key}`;
      if (row.version <= (lastInFeed.get(line) ?? 0)) outOfOrder.add(row.key);
      lastInFeed.set(line, row.version);
    }

    const dead = await db.query(`SELECT count(DISTINCT headers->>'ce_id')::int AS n FROM dead_letters WHERE headers->>'ce_id' = ANY($1)`, [[...ids]]);

    return {
      accepted: acknowledged.size,
      stored: events.length,
      unacknowledgedStored: events.filter((e) => !acknowledged.has(`${e.entityId}:${e.version}`)).length,
      published: copies.size,
      records: ours.length,
      duplicateRecords: ours.length - copies.size,
      consumed: events.filter((e) => e.consumedBy === USER_EVENT_CONSUMERS.length).length,
      lost: notStored + unpublished + unconsumed,
      unconsumedAt: whereUnconsumed(unconsumedEvents, ours),
      deadLettered: dead.rows[0].n,
      outOfOrder: outOfOrder.size,
    };
  });
}

/** Unconsumed events grouped by partition and missing consumers: a stalled partition and a failing consumer look different. */
function whereUnconsumed(unconsumed: StoredEvent[], records: ReadRecord[]): string[] {
  const firstCopy = new Map<string, ReadRecord>();
  for (const r of records) if (!firstCopy.has(r.headers.ce_id)) firstCopy.set(r.headers.ce_id, r);
  const groups = new Map<string, { n: number; from: bigint }>();
  for (const e of unconsumed) {
    const r = firstCopy.get(e.eventId)!;
    const missing = USER_EVENT_CONSUMERS.filter((c) => !e.consumers.includes(c)).join('+');
    const key = `${r.topic}[${r.partition}] missing ${missing}`;
    const g = groups.get(key) ?? { n: 0, from: BigInt(r.offset) };
    groups.set(key, { n: g.n + 1, from: BigInt(r.offset) < g.from ? BigInt(r.offset) : g.from });
  }
  return [...groups].sort(([a], [b]) => a.localeCompare(b)).map(([key, g]) => `${key}: ${g.n} from offset ${g.from}`);
}

export interface OutsideTally {
  /** Orders the outside producer's broker acknowledged. */
  sent: number;
  /** Of those, found on the topic when read back. */
  onTopic: number;
  /** Orders on the topic whose send the producer saw fail: written anyway, so they count like the others. */
  writtenUnacknowledged: number;
  /** Ingest effect: order rows stored. */
  ingested: number;
  /** Analytics effect: orders placed counted in the quiet minute's window. */
  counted: number;
  lost: number;
  /** Orders some consumer set aside as dead letters. */
  deadLettered: number;
  /** Effects applied more than once: an order's version above its number of records (the ingest upsert bumps it on every application), or the window counting more orders than are on the topic. */
  duplicatedEffects: number;
  /** Where the orders on the topic that were never ingested sit (`partition@offset`), for a failure message. */
  notIngestedAt: string[];
  /** Orders whose ingest effect ran more often than they are on the topic: `id partition@offset vN`. */
  duplicatedAt: string[];
}

/** Waits (without failing) until the ingest and analytics effects of every outside order are in. */
export async function settleOutsideOrders(orders: OutsideOrders, timeoutMs = 120_000): Promise<boolean> {
  try {
    await waitFor(
      'the outside orders to be ingested and counted',
      () =>
        withDb(async (db) => {
          const t = await outsideEffects(db, orders, orders.sent);
          return t.ingested >= orders.sent.length && t.counted >= orders.sent.length;
        }),
      { timeoutMs, intervalMs: 500 },
    );
    return true;
  } catch {
    return false;
  }
}

async function outsideEffects(db: Client, orders: OutsideOrders, ids: number[]) {
  const rows = await db.query(`SELECT id, version FROM orders WHERE id = ANY($1::bigint[])`, [ids]);
  const window = await db.query(`SELECT placed FROM analytics_minute_windows WHERE window_start = $1`, [orders.minute]);
  return {
    versions: new Map<number, number>(rows.rows.map((r) => [Number(r.id), r.version])),
    ingested: rows.rowCount ?? 0,
    counted: window.rows[0]?.placed ?? 0,
  };
}

export async function tallyOutsideOrders(orders: OutsideOrders, records: ReadRecord[]): Promise<OutsideTally> {
  return withDb(async (db) => {
    // Every order of this producer on the topic (its product is unique to it), acknowledged or not.
    const copies = new Map<number, number>();
    const at = new Map<number, string>();
    for (const r of records) {
      if (r.topic !== Topics.OrderPlaced || r.headers.ce_id || !r.value) continue;
      const order = JSON.parse(r.value) as { id: unknown; product?: unknown };
      if (typeof order.product !== 'string' || !order.product.startsWith(orders.product)) continue;
      copies.set(Number(order.id), (copies.get(Number(order.id)) ?? 0) + 1);
      at.set(Number(order.id), `${r.partition}@${r.offset}`);
    }
    const written = [...copies.keys()];
    const effects = await outsideEffects(db, orders, written);
    let duplicatedEffects = Math.max(0, effects.counted - written.length);
    const duplicatedAt: string[] = [];
    for (const [id, version] of effects.versions) {
      const extra = Math.max(0, version - (copies.get(id) ?? 0));
      duplicatedEffects += extra;
      if (extra > 0) duplicatedAt.push(`${id} ${at.get(id)} v${version}`);
    }
    const dead = await db.query(`SELECT count(DISTINCT key)::int AS n FROM dead_letters WHERE topic = $1 AND key = ANY($2)`, [
      Topics.OrderPlaced,
      written.map(String),
    ]);
    const onTopic = orders.sent.filter((id) => copies.has(id)).length;
    const notIngested = written.filter((id) => !effects.versions.has(id));
    const notCounted = Math.max(0, written.length - effects.counted);
    return {
      sent: orders.sent.length,
      onTopic,
      writtenUnacknowledged: written.length - onTopic,
      ingested: effects.ingested,
      counted: effects.counted,
      lost: orders.sent.length - onTopic + Math.max(notIngested.length, notCounted),
      deadLettered: dead.rows[0].n,
      duplicatedEffects,
      notIngestedAt: notIngested.map((id) => at.get(id)!).sort(),
      duplicatedAt,
    };
  });
}

/**
 * The end of every scenario that drives user writes and outside orders together, once both loads have
 * stopped: wait for the pipeline to settle, read back what reached Kafka since `from`, tally both.
 */
export async function settleAndTally(
  load: UserWriteLoad,
  outside: OutsideOrders,
  brokers: string,
  topics: string[],
  from: Offsets,
  groupId: string,
): Promise<{ settled: boolean; t: WriteTally; o: OutsideTally; unsettled: string }> {
  const settled = (await settleUserWrites(load)) && (await settleOutsideOrders(outside));
  const records = await readSince(brokers, topics, from);
  const t = await tallyUserWrites(load, records);
  const o = await tallyOutsideOrders(outside, records);
  // What a failure message needs to tell a stuck consumer from one that skipped records.
  const unsettled = settled
    ? ''
    : `unconsumed: ${t.unconsumedAt.join(', ') || 'none'}; group lag: ${(await groupLag(brokers, groupId, topics)).join(', ') || 'none'}; outside orders never ingested at ${Topics.OrderPlaced} ${o.notIngestedAt.slice(0, 30).join(' ') || '-'}`;
  return { settled, t, o, unsettled };
}

/** The counts those scenarios print, in the summary line's order; each adds its own after them. */
export function mixedLoadCounts(load: UserWriteLoad, outside: OutsideOrders, t: WriteTally, o: OutsideTally): Record<string, unknown> {
  return {
    accepted: t.accepted,
    stored: t.stored,
    published: t.published,
    consumed: t.consumed,
    lost: t.lost + o.lost,
    duplicated: o.duplicatedEffects,
    refused: load.refusedSummary(),
    unacknowledgedStored: t.unacknowledgedStored,
    records: t.records,
    outOfOrder: t.outOfOrder,
    deadLettered: t.deadLettered + o.deadLettered,
    outsideSent: o.sent,
    outsideFailedSends: outside.failedSends,
    outsideWrittenUnacknowledged: o.writtenUnacknowledged,
    outsideOnTopic: o.onTopic,
    outsideIngested: o.ingested,
    outsideCounted: o.counted,
  };
}
