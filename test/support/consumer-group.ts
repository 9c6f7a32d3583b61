import { Kafka, logLevel } from 'kafkajs';
import { waitFor } from './wait-for';

export interface PartitionOffset {
  partition: number;
  offset: string;
}

function admin() {
  return new Kafka({ clientId: 'e2e-group-admin', brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING }).admin();
}

/** Where each partition of a topic ends now: a mark to rewind a consumer group to later. */
export async function endOffsets(topic: string): Promise<PartitionOffset[]> {
  const client = admin();
  await client.connect();
  try {
    return (await client.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, offset: p.high }));
  } finally {
    await client.disconnect();
  }
}

/**
 * Moves a consumer group back to a mark, so everything written since is delivered to it again.
 * Kafka only allows it once the group has no members, so this retries until the stopped app has left.
 */
export async function rewindGroup(groupId: string, topic: string, to: PartitionOffset[]): Promise<void> {
  const client = admin();
  await client.connect();
  try {
    await waitFor(`${groupId} to be empty and rewound`, async () => {
      await client.setOffsets({ groupId, topic, partitions: to });
      return true;
    });
  } finally {
    await client.disconnect();
  }
}

/** Waits until a consumer group has committed past a record: every handler in that group is done with it. */
export async function waitForCommittedPast(groupId: string, record: { topic: string; partition: number; offset: string }): Promise<void> {
  const client = admin();
  await client.connect();
  try {
    await waitFor(`${groupId} to commit past ${record.topic}[${record.partition}]@${record.offset}`, async () => {
      const [topic] = await client.fetchOffsets({ groupId, topics: [record.topic] });
      const committed = topic?.partitions.find((p) => p.partition === record.partition)?.offset;
      return committed !== undefined && BigInt(committed) > BigInt(record.offset);
    });
  } finally {
    await client.disconnect();
  }
}

/** The offset a consumer group has committed for one partition; -1 when it never committed there. */
export async function committedOffset(groupId: string, topic: string, partition: number): Promise<bigint> {
  const client = admin();
  await client.connect();
  try {
    const [committed] = await client.fetchOffsets({ groupId, topics: [topic] });
    return BigInt(committed?.partitions.find((p) => p.partition === partition)?.offset ?? '-1');
  } finally {
    await client.disconnect();
  }
}
