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
