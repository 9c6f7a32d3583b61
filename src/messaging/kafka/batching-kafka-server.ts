import { ServerKafka } from '@nestjs/microservices';
import type { Consumer, EachBatchPayload } from 'kafkajs';

/**
 * Nest's Kafka transport, fed by kafkajs `eachBatch` instead of `eachMessage`: every record of a fetched
 * batch is handed to its `@EventPattern` handlers at once, so the consumer pipeline can commit their
 * effects in one transaction per consumer (see EventConsumer) instead of one per record. Handlers,
 * guards and contexts are Nest's own, record by record; only the dispatch is batched.
 *
 * A partition's next batch is fetched only after this one settles, and offsets are resolved in order,
 * up to the first record whose handling failed: kafkajs then delivers the rest again, and the
 * consumers' inbox drops what was already applied.
 */
export class BatchingKafkaServer extends ServerKafka {
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
    const handling: Promise<unknown>[] = [];
    // On shutdown or a rebalance, records not yet handed out are left for the next owner.
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) break;
      handling.push(this.handleMessage({ topic: batch.topic, partition: batch.partition, message, heartbeat, pause }));
    }
    const outcomes = await Promise.allSettled(handling);
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.status === 'rejected') throw outcome.reason;
      resolveOffset(batch.messages[i].offset);
    }
    await heartbeat();
  }
}
