import { CustomStrategy, KafkaOptions, Transport } from '@nestjs/microservices';
import { Logger } from '@nestjs/common';
import { KafkaConfig, logCreator, logLevel, Partitioners } from 'kafkajs';
import type { AppConfig } from '../../config/app.config';
import { BatchingKafkaServer } from './batching-kafka-server';
import { consumerGroupId } from './consumer-groups';

// Routine during rebalances and broker start-up; kafkajs reports them as errors and retries by itself.
const EXPECTED = /rebalancing|rejoin is needed|coordinator is not available|coordinator.*loading|not the correct coordinator/i;

/** Sends kafkajs logs to Nest's logger, demoting the routine "errors" of group rebalances to debug. */
const kafkaLogCreator: logCreator = () => {
  const logger = new Logger('Kafka');
  return ({ level, log }) => {
    const { message, ...extra } = log;
    const text = `${message} ${JSON.stringify({ ...extra, timestamp: undefined })}`;
    if (level <= logLevel.ERROR && !EXPECTED.test(`${message} ${String(extra.error ?? '')}`)) logger.error(text);
    else if (level <= logLevel.WARN && !EXPECTED.test(`${message} ${String(extra.error ?? '')}`)) logger.warn(text);
    else if (level <= logLevel.INFO) logger.log(text);
    else logger.debug(text);
  };
};

/** Client settings shared by Nest's Kafka transport and our own producer and admin. */
export function kafkaClientConfig(kafka: AppConfig['kafka'], clientIdSuffix = ''): KafkaConfig {
  return {
    logCreator: kafkaLogCreator,
    clientId: kafka.clientId + clientIdSuffix,
    brokers: kafka.brokers,
    ssl: kafka.ssl,
    sasl: kafka.sasl as KafkaConfig['sasl'],
    connectionTimeout: 3000,
    // Keep retrying through a broker restart instead of giving up after a few seconds.
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 10_000 },
  };
}

/** Options of the Nest Kafka transport that runs one of this app's consumer groups. */
function kafkaTransportOptions(kafka: AppConfig['kafka'], group: string): KafkaOptions {
  return {
    transport: Transport.KAFKA,
    options: {
      client: kafkaClientConfig(kafka, `-${group}`),
      // Nest appends "-server" to client and group ids unless told otherwise.
      postfixId: '',
      consumer: {
        groupId: consumerGroupId(kafka.groupId, group),
        allowAutoTopicCreation: false,
        sessionTimeout: kafka.sessionTimeoutMs,
        // Kafka's rule of thumb: heartbeat at most a third of the session timeout.
        heartbeatInterval: Math.min(3_000, Math.floor(kafka.sessionTimeoutMs / 3)),
        // Answered at once by default: bigger fetches saved no CPU at load here, and idle groups poll (docs/benchmarks.md).
        minBytes: kafka.fetch.minBytes,
        maxWaitTimeInMs: kafka.fetch.maxWaitTimeInMs,
      },
      // By default a new group starts at the beginning so events written before the first start are ingested.
      subscribe: { fromBeginning: kafka.fromBeginning },
      run: { partitionsConsumedConcurrently: kafka.consumerConcurrency },
      // Nest's transport opens a producer for replies; we never reply, but keep it Java-compatible.
      producer: { createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false },
      // Values stay raw bytes: the consumer pipeline parses them itself and dead-letters what is not JSON.
      parser: { keepBinary: true },
    },
  };
}

/** The transport a consumer group's `@EventPattern` handlers run on: Nest's Kafka server, dispatching batches. */
export function kafkaTransport(kafka: AppConfig['kafka'], group: string, chunkSize: number): CustomStrategy & { strategy: BatchingKafkaServer } {
  const settings = { chunkSize, stallRestartMs: kafka.stallRestartMs, commitIntervalMs: kafka.commitIntervalMs };
  return { strategy: new BatchingKafkaServer(kafkaTransportOptions(kafka, group).options!, group, settings) };
}
