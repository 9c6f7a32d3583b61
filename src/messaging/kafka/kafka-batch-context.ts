import { KafkaContext } from '@nestjs/microservices';

/**
 * A record as Nest's Kafka transport types it. BatchingKafkaServer hands event handlers the record as
 * kafkajs read it, key, value and headers as the bytes received (Buffers), with its topic and partition.
 */
export type KafkaMessage = ReturnType<KafkaContext['getMessage']>;

/**
 * What an `@EventPattern` handler gets from BatchingKafkaServer: consecutive records of one partition,
 * in offset order, handed to it in one call (Nest's guards, pipes and proxy run once per chunk, not once
 * per record). `getMessage()` is the first of them, for code written against Nest's one-record context.
 *
 * A handler that cannot handle one of the records says which (`recordFailed`): the records before it
 * are done, and it and the rest of the partition are delivered again. A handler that rejects without
 * saying so fails the whole chunk. Each handler gets a context of its own, so one handler's failures
 * never stand for another's.
 */
export class KafkaBatchContext extends KafkaContext {
  private firstFailed?: { index: number; reason: unknown };

  constructor(
    private readonly messages: readonly KafkaMessage[],
    partition: number,
    topic: string,
    consumer: ReturnType<KafkaContext['getConsumer']>,
    heartbeat: () => Promise<void>,
    producer: ReturnType<KafkaContext['getProducer']>,
  ) {
    super([messages[0], partition, topic, consumer, heartbeat, producer]);
  }

  getMessages(): readonly KafkaMessage[] {
    return this.messages;
  }

  recordFailed(index: number, reason: unknown): void {
    if (this.firstFailed === undefined || index < this.firstFailed.index) this.firstFailed = { index, reason };
  }

  /** The earliest record a handler failed, if any. */
  firstFailure(): { index: number; reason: unknown } | undefined {
    return this.firstFailed;
  }
}

/** The records of a context: a batch's, or the one of Nest's own context. */
export function messagesOf(ctx: KafkaContext): readonly KafkaMessage[] {
  return ctx instanceof KafkaBatchContext ? ctx.getMessages() : [ctx.getMessage()];
}
