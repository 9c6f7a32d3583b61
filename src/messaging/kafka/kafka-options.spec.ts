import type { ConsumerConfig } from 'kafkajs';
import { appConfig } from '../../config/app.config';
import { kafkaTransport } from './kafka-options';

/** The consumer settings a group's kafkajs consumer is created with, as the transport hands them on. */
function consumerOf(env: Record<string, string>): ConsumerConfig {
  const saved = process.env;
  process.env = { ...env };
  try {
    const { strategy } = kafkaTransport(appConfig().kafka, 'orders', 100);
    return (strategy as unknown as { options: { consumer: ConsumerConfig } }).options.consumer;
  } finally {
    process.env = saved;
  }
}

describe('kafkaTransport', () => {
  it('leaves the broker answering a fetch as soon as a record is there, as kafkajs does by default', () => {
    expect(consumerOf({})).toMatchObject({ groupId: 'nestream.orders', minBytes: 1, maxWaitTimeInMs: 5000 });
  });

  it("hands KAFKA_FETCH_MIN_BYTES and KAFKA_FETCH_MAX_WAIT_MS to every group's consumer", () => {
    expect(consumerOf({ KAFKA_FETCH_MIN_BYTES: '65536', KAFKA_FETCH_MAX_WAIT_MS: '20' })).toMatchObject({ minBytes: 65536, maxWaitTimeInMs: 20 });
  });
});
