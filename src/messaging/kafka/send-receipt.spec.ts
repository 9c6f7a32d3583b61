import { Message, PartitionMetadata, Partitioners, RecordMetadata } from 'kafkajs';
import { SendReceipt } from './send-receipt';

const threePartitions: PartitionMetadata[] = [0, 1, 2].map((partitionId) => ({
  partitionId,
  leader: partitionId + 1,
  replicas: [1, 2, 3],
  isr: [1, 2, 3],
  partitionErrorCode: 0,
}));

function answer(topicName: string, partition: number): RecordMetadata {
  return { topicName, partition, errorCode: 0, baseOffset: '0' };
}

/** Routes messages the way kafkajs does before a send: one partitioner call per message. */
function route(receipt: SendReceipt, topic: string, messages: Message[]): number[] {
  const partitioner = receipt.partitioner();
  return messages.map((message) => partitioner({ topic, partitionMetadata: threePartitions, message }));
}

describe('SendReceipt', () => {
  const messages: Message[] = ['1', '2', '3', '4', '5', '6'].map((key) => ({ key, value: key }));

  it("routes as kafkajs's default (Java-compatible murmur2) partitioner does", () => {
    const java = Partitioners.DefaultPartitioner();
    const expected = messages.map((message) => java({ topic: 't', partitionMetadata: threePartitions, message }));
    expect(route(new SendReceipt(), 't', messages)).toEqual(expected);
    expect(new Set(expected).size).toBeGreaterThan(1);
  });

  it('accepts a send that every routed partition answered', () => {
    const receipt = new SendReceipt();
    const partitions = route(receipt, 't', messages);
    const answers = [...new Set(partitions)].map((p) => answer('t', p));
    expect(receipt.unanswered([{ topic: 't', messages }], answers)).toEqual([]);
  });

  it('names the partitions that never answered (a send kafkajs resolved without sending all of it)', () => {
    const receipt = new SendReceipt();
    const partitions = [...new Set(route(receipt, 't', messages))];
    const [skipped, ...rest] = partitions;
    expect(receipt.unanswered([{ topic: 't', messages }], rest.map((p) => answer('t', p)))).toEqual([`t/${skipped}`]);
  });

  it('tells topics apart: an answer for another topic does not count', () => {
    const receipt = new SendReceipt();
    const [p] = route(receipt, 'a', messages.slice(0, 1));
    expect(receipt.unanswered([{ topic: 'a', messages: messages.slice(0, 1) }], [answer('b', p)])).toEqual([`a/${p}`]);
  });

  it('counts a message that was never routed as not sent', () => {
    const receipt = new SendReceipt();
    expect(receipt.unanswered([{ topic: 't', messages: [{ key: 'x', value: 'x' }] }], [answer('t', 0)])).toEqual(['t/?']);
  });
});
