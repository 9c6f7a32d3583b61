import { Admin, Kafka, logLevel } from 'kafkajs';
import type { AppConfig } from '../../config/app.config';
import { kafkaClientConfig } from './kafka-options';

/** Where a replay starts in each partition of its topics. */
export type ReplayStart =
  | { from: 'beginning' }
  /** The named partitions from these offsets; partitions not named start at their end (new records only). */
  | { from: 'offsets'; offsets: { topic: string; partition: number; offset: string }[] }
  /** The first record whose timestamp is at or after this instant, per partition (Kafka's offsets-for-times). */
  | { from: 'time'; at: Date };

export interface ReplayedRecord {
  topic: string;
  partition: number;
  offset: string;
  /** Kafka's record timestamp, in milliseconds. */
  timestamp: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

export interface ReplayOptions {
  /** A consumer group of its own: its committed offsets say where the replay got to. */
  groupId: string;
  topics: string[];
  start: ReplayStart;
  /** Stop once every partition reached the end it had when the replay started; else follow until aborted. */
  untilEnd?: boolean;
  /** Allow moving a group that already has committed offsets (it must still have no running member). */
  force?: boolean;
  onRecord(record: ReplayedRecord): Promise<void> | void;
  signal?: AbortSignal;
}

export interface PartitionStart {
  topic: string;
  partition: number;
  offset: string;
  /** The partition's end offset when the replay started. */
  end: string;
}

export class ReplayRefusedError extends Error {}

/**
 * Replays topics from the beginning, from offsets or from an instant under a new consumer group, to
 * feed a new read model or another service. kafkajs stays inside this folder: callers get plain records.
 */
export class KafkaReplayer {
  private readonly kafka: Kafka;

  constructor(config: AppConfig['kafka']) {
    this.kafka = new Kafka({ ...kafkaClientConfig(config, '-replay'), logLevel: logLevel.NOTHING });
  }

  /** Where each partition starts, without consuming anything (the CLI's --dry-run). */
  async plan(topics: string[], start: ReplayStart): Promise<PartitionStart[]> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      return await startOffsets(admin, topics, start);
    } finally {
      await admin.disconnect();
    }
  }

  async run(options: ReplayOptions): Promise<{ records: number; starts: PartitionStart[] }> {
    const admin = this.kafka.admin();
    await admin.connect();
    let starts: PartitionStart[];
    try {
      await assertGroupIsNew(admin, options.groupId, options.topics, options.force ?? false);
      starts = await startOffsets(admin, options.topics, options.start);
    } finally {
      await admin.disconnect();
    }

    const consumer = this.kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false });
    const next = new Map(starts.map((s) => [`${s.topic}:${s.partition}`, BigInt(s.offset)]));
    const remaining = new Set(starts.filter((s) => BigInt(s.offset) < BigInt(s.end)).map((s) => `${s.topic}:${s.partition}`));
    const ends = new Map(starts.map((s) => [`${s.topic}:${s.partition}`, BigInt(s.end)]));
    let records = 0;
    let finish!: () => void;
    let fail!: (err: Error) => void;
    const done = new Promise<void>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
    if (options.untilEnd && remaining.size === 0) finish();
    options.signal?.addEventListener('abort', () => finish(), { once: true });
    consumer.on(consumer.events.CRASH, ({ payload }) => fail(payload.error));

    await consumer.connect();
    try {
      await consumer.subscribe({ topics: options.topics, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ topic, partition, message }) => {
          const tp = `${topic}:${partition}`;
          const offset = BigInt(message.offset);
          // Anything fetched before the seeks took effect, or fetched twice, is skipped.
          if (offset < (next.get(tp) ?? 0n)) return;
          next.set(tp, offset + 1n);
          await options.onRecord({
            topic,
            partition,
            offset: message.offset,
            timestamp: message.timestamp,
            key: message.key?.toString('utf8') ?? null,
            value: message.value,
            headers: Object.fromEntries(
              Object.entries(message.headers ?? {})
                .filter(([, v]) => v !== undefined)
                .map(([k, v]) => [k, Array.isArray(v) ? v.map(String).join(',') : String(v)]),
            ),
          });
          records += 1;
          if (options.untilEnd && offset + 1n >= (ends.get(tp) ?? 0n)) {
            remaining.delete(tp);
            if (remaining.size === 0) finish();
          }
        },
      });
      // Seeks registered now apply before the next fetch; kafkajs drops what an earlier fetch returned.
      for (const s of starts) consumer.seek({ topic: s.topic, partition: s.partition, offset: s.offset });
      await done;
    } finally {
      await consumer.disconnect();
    }
    return { records, starts };
  }
}

/** Start offsets per partition, with each partition's current end. */
export async function startOffsets(admin: Admin, topics: string[], start: ReplayStart): Promise<PartitionStart[]> {
  const known = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !known.has(t));
  if (missing.length > 0) throw new ReplayRefusedError(`no such topic: ${missing.join(', ')}`);
  const out: PartitionStart[] = [];
  for (const topic of topics) {
    const bounds = await admin.fetchTopicOffsets(topic);
    const atTime = start.from === 'time' ? await admin.fetchTopicOffsetsByTimestamp(topic, start.at.getTime()) : [];
    for (const p of bounds) {
      let offset: string;
      if (start.from === 'beginning') offset = p.low;
      else if (start.from === 'time') offset = atTime.find((t) => t.partition === p.partition)?.offset ?? p.high;
      else {
        const named = start.offsets.find((o) => o.topic === topic && o.partition === p.partition);
        offset = named ? clamp(named.offset, p.low, p.high) : p.high;
      }
      out.push({ topic, partition: p.partition, offset, end: p.high });
    }
  }
  if (start.from === 'offsets') {
    for (const o of start.offsets) {
      if (!out.some((s) => s.topic === o.topic && s.partition === o.partition)) throw new ReplayRefusedError(`${o.topic} has no partition ${o.partition}`);
    }
  }
  return out;
}

/** An offset the broker no longer has (retention) starts at the oldest kept; one past the end, at the end. */
function clamp(offset: string, low: string, high: string): string {
  const o = BigInt(offset);
  return String(o < BigInt(low) ? BigInt(low) : o > BigInt(high) ? BigInt(high) : o);
}

/** Replays run under a new group, so they never move the app's own group or another replay's. */
async function assertGroupIsNew(admin: Admin, groupId: string, topics: string[], force: boolean): Promise<void> {
  const { groups } = await admin.describeGroups([groupId]);
  const members = groups[0]?.members.length ?? 0;
  if (members > 0) throw new ReplayRefusedError(`consumer group ${groupId} has ${members} running member(s); pick a new group id`);
  if (force) return;
  const committed = await admin.fetchOffsets({ groupId, topics });
  const used = committed.some((t) => t.partitions.some((p) => Number(p.offset) >= 0));
  if (used) throw new ReplayRefusedError(`consumer group ${groupId} already has committed offsets; pick a new group id (or --force to move it)`);
}

