import { ICustomPartitioner, Message, Partitioners, RecordMetadata } from 'kafkajs';

export interface TopicMessages {
  topic: string;
  messages: Message[];
}

/**
 * kafkajs 2.2.4 can resolve a send without having sent all of it (its issue 1303): when a partition's leader
 * dies mid-send, the retry moves that partition to a broker that already answered, and skips it. So the
 * producer records which partition each message was routed to, and a send counts only when every one of
 * those partitions answered.
 */
export class SendReceipt {
  private readonly partitionOf = new WeakMap<Message, number>();

  /** murmur2, as Java clients use (a key lands on the same partition whoever produces it), remembering each route. */
  readonly partitioner: ICustomPartitioner = () => {
    const route = Partitioners.DefaultPartitioner();
    return (args) => {
      const partition = route(args);
      this.partitionOf.set(args.message, partition);
      return partition;
    };
  };

  /** `topic/partition` of every partition a message was routed to and that did not answer the send. */
  unanswered(sent: TopicMessages[], answers: RecordMetadata[]): string[] {
    const answered = new Set(answers.map((a) => `${a.topicName}/${a.partition}`));
    const missing = new Set<string>();
    for (const { topic, messages } of sent) {
      for (const message of messages) {
        // A message never routed was never sent either.
        const where = `${topic}/${this.partitionOf.get(message) ?? '?'}`;
        if (!answered.has(where)) missing.add(where);
      }
    }
    return [...missing];
  }
}
