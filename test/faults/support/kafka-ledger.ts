import { randomUUID } from 'node:crypto';
import { AssignerProtocol, ConfigResourceTypes, IHeaders, Kafka, logLevel } from 'kafkajs';
import type { ReadRecord } from '../../support/kafka';
import { consumerGroupIds, ConsumerGroups } from '../../../src/messaging/kafka/consumer-groups';
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
 * Resolves once every partition's leader answers for its offsets: right after a cluster starts, its
 * brokers answer metadata before every partition has (re-)elected a leader.
 */
export async function waitForLeaders(brokers: string, timeoutMs = 90_000): Promise<void> {
  const admin = kafkaOf(brokers).admin();
  await admin.connect();
  try {
    await waitFor(
      'every partition to have a leader',
      async () => {
        for (const topic of await admin.listTopics()) await admin.fetchTopicOffsets(topic);
        return true;
      },
      { timeoutMs, intervalMs: 500 },
    );
  } finally {
    await admin.disconnect();
  }
}

/**
 * Moves the app's consumer groups (`<base>.<consumer>`, one per consumer) to the end of every topic, so
 * an app started with them consumes only what this test writes from now on — not the history other runs
 * left on the shared broker. The groups must have no running member.
 */
export async function startGroupAtEnd(brokers: string, base: string, consumers: readonly string[] = Object.values(ConsumerGroups)): Promise<void> {
  const admin = kafkaOf(brokers).admin();
  await admin.connect();
  const ends: { topic: string; partition: number; offset: string }[] = [];
  try {
    for (const topic of (await admin.listTopics()).filter((t) => !t.startsWith('__'))) {
      for (const p of await admin.fetchTopicOffsets(topic)) ends.push({ topic, partition: p.partition, offset: p.high });
    }
  } finally {
    await admin.disconnect();
  }
  if (ends.length === 0) return;
  await Promise.all(consumerGroupIds(base, consumers).map((groupId) => commitAt(brokers, groupId, ends)));
}

/**
 * One member joins the group, commits these offsets and leaves (kafkajs' admin.setOffsets joins once per
 * topic, seconds each).
 */
async function commitAt(brokers: string, groupId: string, ends: { topic: string; partition: number; offset: string }[]): Promise<void> {
  const kafka = kafkaOf(brokers);
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...new Set(ends.map((e) => e.topic))], fromBeginning: false });
    await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
    await waitFor(`a member of ${groupId} to join`, () => joined, { timeoutMs: 60_000 });
    await consumer.commitOffsets(ends);
  } catch (err) {
    throw new Error(`cannot move consumer group ${groupId} to the end of its topics: ${(err as Error).message}`);
  } finally {
    await consumer.disconnect();
  }
}

/**
 * Partitions of these topics where one of the app's consumer groups has its committed offset behind the
 * end, as `group topic[partition] committed/end`: after a scenario that did not settle, whether a group is
 * stuck behind records (lag) or committed past records it never applied (no lag, effects missing). Each
 * group over the topics its members are assigned (all of them are committed at the start, but each
 * consumes its own); a group with no member says so.
 */
export async function groupLag(brokers: string, base: string, topics: string[]): Promise<string[]> {
  const admin = kafkaOf(brokers).admin();
  await admin.connect();
  try {
    const ends = await endOffsets(brokers, topics);
    const lag: string[] = [];
    for (const group of (await admin.describeGroups(consumerGroupIds(base))).groups) {
      const assigned = new Set(group.members.flatMap((m) => Object.keys(AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {})));
      const consumed = topics.filter((t) => assigned.has(t) && [...ends.keys()].some((k) => k.startsWith(`${t}:`)));
      if (group.members.length === 0) lag.push(`${group.groupId} has no member (${group.state})`);
      if (consumed.length === 0) continue;
      for (const { topic, partitions } of await admin.fetchOffsets({ groupId: group.groupId, topics: consumed })) {
        for (const { partition, offset } of partitions) {
          const end = ends.get(`${topic}:${partition}`) ?? 0n;
          if (BigInt(offset) < end) lag.push(`${group.groupId} ${topic}[${partition}] ${offset}/${end}`);
        }
      }
    }
    return lag;
  } finally {
    await admin.disconnect();
  }
}

/** Whether every one of the app's consumer groups is `Stable` with this many members right now. */
export async function groupsStableWith(brokers: string, base: string, members: number): Promise<boolean> {
  const admin = kafkaOf(brokers).admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups(consumerGroupIds(base));
    return groups.every((group) => group.state === 'Stable' && group.members.length === members);
  } finally {
    await admin.disconnect();
  }
}

/** How a topic is replicated: the fewest replicas of any partition, its min.insync.replicas, and each partition's leader. */
export async function replicationOf(brokers: string, topic: string): Promise<{ replicas: number; minInsyncReplicas: number; leaders: number[] }> {
  const admin = kafkaOf(brokers).admin();
  await admin.connect();
  try {
    const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['min.insync.replicas'] }],
    });
    return {
      replicas: Math.min(...meta.partitions.map((p) => p.replicas.length)),
      minInsyncReplicas: Number(resources[0].configEntries.find((c) => c.configName === 'min.insync.replicas')?.configValue),
      leaders: meta.partitions.map((p) => p.leader),
    };
  } finally {
    await admin.disconnect();
  }
}

/**
 * The broker coordinating a consumer group: the leader of the `__consumer_offsets` partition the group's
 * name hashes to (Kafka's rule: Java's String.hashCode, sign bit cleared, modulo the partition count).
 */
export async function groupCoordinator(brokers: string, groupId: string): Promise<number> {
  const admin = kafkaOf(brokers).admin();
  await admin.connect();
  try {
    const [meta] = (await admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] })).topics;
    let hash = 0;
    for (const ch of groupId) hash = (Math.imul(hash, 31) + ch.charCodeAt(0)) | 0;
    const partition = (hash & 0x7fffffff) % meta.partitions.length;
    return meta.partitions.find((p) => p.partitionId === partition)!.leader;
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
  // A fetch started before the seeks took effect may hand over a record twice: keep each offset once.
  const seen = new Set<string>();
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
        if (offset < start(key) || offset >= end || seen.has(`${key}:${offset}`)) return;
        seen.add(`${key}:${offset}`);
        records.push({
          topic,
          partition,
          offset: message.offset,
          timestamp: message.timestamp,
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
  // In offset order within each partition, whatever order the fetches arrived in.
  return records.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

function stringHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(headers ?? {})) if (v !== undefined) out[name] = v.toString();
  return out;
}
