import { KafkaOptions, ServerKafka } from '@nestjs/microservices';
import type { Consumer, EachBatchPayload } from 'kafkajs';

/**
 * Nest's Kafka transport, fed by kafkajs `eachBatch` instead of `eachMessage`: every record of a fetched
 * batch is handed to its `@EventPattern` handlers at once, so the consumer pipeline can commit their
 * effects in one transaction per consumer (see EventConsumer) instead of one per record. Handlers,
 * guards and contexts are Nest's own, record by record; only the dispatch is batched.
 *
 * A fetched batch can hold thousands of records; they are handed out `chunkSize` at a time, so memory
 * stays bounded and a shutdown or rebalance waits for one chunk, not the whole batch. A partition's
 * next chunk starts only after this one settles, and offsets are resolved in order, up to the first
 * record whose handling failed: kafkajs then delivers the rest again, and the consumers' inbox drops
 * what was already applied.
 */
export class BatchingKafkaServer extends ServerKafka {
  constructor(
    options: Required<KafkaOptions>['options'],
    private readonly chunkSize: number,
  ) {
    super(options);
  }

  override async bindEvents(consumer: Consumer): Promise<void> {
    const topics = [...this.messageHandlers.keys()];
    if (topics.length > 0) await consumer.subscribe({ ...(this.options.subscribe ?? {}), topics });
    await consumer.run({
      ...(this.options.run ?? {}),
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.handleBatch(payload),
    });
  }

  private async handleBatch({ batch, heartbeat, pause, resolveOffset, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition, messages } = batch;
    for (let start = 0; start < messages.length; start += this.chunkSize) {
      // On shutdown or a rebalance, records not yet handed out are left for the next owner.
      if (!isRunning() || isStale()) return;
      const chunk = messages.slice(start, start + this.chunkSize);
      const outcomes = await Promise.allSettled(chunk.map((message) => this.handleMessage({ topic, partition, message, heartbeat, pause })));
      for (const [i, outcome] of outcomes.entries()) {
        if (outcome.status === 'rejected') throw outcome.reason;
        resolveOffset(chunk[i].offset);
      }
      await heartbeat();
    }
  }
}
