import { randomUUID } from 'node:crypto';
import { IHeaders, Kafka, logLevel } from 'kafkajs';
import type { ReadRecord } from '../../support/kafka';
import { waitFor } from '../../support/wait-for';

/** Each partition's offset, keyed `topic:partition`. */
export type Offsets = Map<string, bigint>;

export function kafkaOf(brokers: string, clientId = 'nestream-faults-probe'): Kafka {
  return new Kafka({
    clientId,
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 5000 },
  });
}

/** The end (high watermark) of every partition of these topics; topics that do not exist yet are left out. */
export async function endOffsets(brokers: string, topics: string[]): Promise<Offsets> {
  const admin = kafkaOf(brokers).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const ends: Offsets = new Map();
    for (const topic of topics.filter((t) => existing.has(t))) {
      for (const p of await admin.fetchTopicOffsets(topic)) ends.set(`${topic}:${p.partition}`, BigInt(p.high));
    }
    return ends;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Moves a consumer group to the end of every topic, so an app started with it consumes only what this
 * test writes from now on — not the history other runs left on the shared broker. The group must have
 * no running member.
 */
export async function startGroupAtEnd(brokers: string, groupId: string): Promise<void> {
  const admin = kafkaOf(brokers).admin();
  await admin.connect();
  try {
    for (const topic of (await admin.listTopics()).filter((t) => !t.startsWith('__'))) {
      const partitions = (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, offset: p.high }));
      await admin.setOffsets({ groupId, topic, partitions });
    }
  } catch (err) {
    throw new Error(`cannot move consumer group ${groupId} to the end of its topics (is an app of an earlier run still running?): ${(err as Error).message}`);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads back every record written to these topics since `from`, up to their end offsets now: a fresh
 * consumer (its own throwaway group) that seeks to `from` and stops at the end. What the whole run
 * published, counted once it has settled, whatever happened to the broker in between.
 */
export async function readSince(brokers: string, topics: string[], from: Offsets): Promise<ReadRecord[]> {
  const to = await endOffsets(brokers, topics);
  const start = (key: string) => from.get(key) ?? 0n;
  const pending = [...to].filter(([key, end]) => end > start(key)).map(([key]) => key);
  if (pending.length === 0) return [];

  const kafka = kafkaOf(brokers);
  const groupId = `nestream-faults-reader-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 500 });
  const records: ReadRecord[] = [];
  const reached = new Set<string>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...new Set(pending.map((k) => k.slice(0, k.lastIndexOf(':'))))], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        const key = `${topic}:${partition}`;
        const offset = BigInt(message.offset);
        const end = to.get(key) ?? 0n;
        if (offset >= end - 1n) reached.add(key);
        if (offset < start(key) || offset >= end) return;
        records.push({
          topic,
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: message.value?.toString() ?? null,
          headers: stringHeaders(message.headers),
        });
      },
    });
    for (const key of pending) {
      const at = key.lastIndexOf(':');
      consumer.seek({ topic: key.slice(0, at), partition: Number(key.slice(at + 1)), offset: String(start(key)) });
    }
    await waitFor(
      `the records of ${pending.length} partition(s) up to their end offsets`,
      () => pending.every((key) => reached.has(key)),
      { timeoutMs: 60_000, intervalMs: 100 },
    );
  } finally {
    await consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect().then(() => admin.deleteGroups([groupId]), () => undefined).catch(() => undefined);
    await admin.disconnect();
  }
  return records;
}

function stringHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(headers ?? {})) if (v !== undefined) out[name] = v.toString();
  return out;
}
