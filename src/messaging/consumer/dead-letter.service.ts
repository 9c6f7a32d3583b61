import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { deadLetterTopicOf } from '../../events';
import { Metrics } from '../../observability/metrics';
import { OutboxRelay } from '../outbox/outbox-relay.service';
import { OutboxService } from '../outbox/outbox.service';
import { insertDeadLetter, MAX_REASON_LENGTH } from './dead-letter-row';

/** Headers added to a dead letter, beside the original record's own headers. */
export const DLQ_HEADERS = {
  reason: 'x-dlq-reason',
  consumer: 'x-dlq-consumer',
  attempts: 'x-dlq-attempts',
  originalTopic: 'x-original-topic',
  originalPartition: 'x-original-partition',
  originalOffset: 'x-original-offset',
  originalTimestamp: 'x-original-timestamp',
} as const;

/** Consumer name used for messages that no consumer can read, so they are set aside once. */
export const ANY_CONSUMER = '*';

export interface DeadLetter {
  consumer: string;
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  reason: string;
  attempts: number;
}

/**
 * Sets a message aside: a row in `dead_letters` and a record for `<topic>.dlq` in the outbox, in one
 * transaction, so the dead letter is neither lost nor written twice when the message is redelivered.
 */
@Injectable()
export class DeadLetterService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxService,
    private readonly relay: OutboxRelay,
    private readonly metrics: Metrics,
  ) {}

  async setAside(d: DeadLetter): Promise<void> {
    const reason = d.reason.slice(0, MAX_REASON_LENGTH);
    const inserted = await this.dataSource.transaction(async (em) => {
      if (!(await insertDeadLetter(em, { ...d, reason }))) return false;
      await this.outbox.enqueue(em, {
        topic: deadLetterTopicOf(d.topic),
        key: d.key,
        value: d.value,
        headers: {
          ...d.headers,
          [DLQ_HEADERS.reason]: reason,
          [DLQ_HEADERS.consumer]: d.consumer,
          [DLQ_HEADERS.attempts]: String(d.attempts),
          [DLQ_HEADERS.originalTopic]: d.topic,
          [DLQ_HEADERS.originalPartition]: String(d.partition),
          [DLQ_HEADERS.originalOffset]: d.offset,
          [DLQ_HEADERS.originalTimestamp]: d.timestamp,
        },
      });
      return true;
    });
    if (inserted) {
      this.relay.wake();
      this.metrics.deadLettered(d.topic, d.consumer);
    }
  }
}
