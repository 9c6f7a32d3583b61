import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { appConfig } from '../../src/config/app.config';
import { consumerGroupIds } from '../../src/messaging/kafka/consumer-groups';
import { KafkaService } from '../../src/messaging/kafka/kafka.service';
import { requiredTopics } from '../../src/messaging/topics';
import { databaseOptions } from '../../src/persistence/database-options';
import { runMigrations } from '../../src/persistence/migrate';
import './test-env';
import { waitFor } from './wait-for';

/**
 * Before any e2e file: fail loudly when Postgres or Kafka is unreachable (never skip), then give the
 * run a fresh, migrated database and the app's topics, created as the app creates them (on a fresh
 * broker a suite's probe may otherwise subscribe before any app has started), with the run's consumer
 * group at their end.
 */
export default async function globalSetup(): Promise<void> {
  const url = new URL(process.env.DATABASE_URL!);
  const database = url.pathname.slice(1);
  const admin = new Client({ connectionString: Object.assign(new URL(url), { pathname: '/postgres' }).toString() });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(`PostgreSQL is unreachable at ${url.host} (${(err as Error).message}); run "npm run infra:up"`);
  }
  try {
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]);
    // Identifiers cannot be parameters; the name is quoted with the server's own quoting function.
    const [{ quoted }] = (await admin.query('SELECT quote_ident($1) AS quoted', [database])).rows;
    await admin.query(`DROP DATABASE IF EXISTS ${quoted}`);
    await admin.query(`CREATE DATABASE ${quoted}`);
  } finally {
    await admin.end();
  }

  const dataSource = await new DataSource(
    databaseOptions({ url: url.toString(), poolSize: 2, poolReserved: 0, migrateOnStart: false }),
  ).initialize();
  await runMigrations(dataSource);
  await dataSource.destroy();

  const brokers = process.env.KAFKA_BROKERS!.split(',');
  const kafkaAdmin = new Kafka({ brokers, logLevel: logLevel.NOTHING, connectionTimeout: 3000, retry: { retries: 2 } }).admin();
  try {
    await kafkaAdmin.connect();
    await kafkaAdmin.describeCluster();
  } catch (err) {
    throw new Error(`Kafka is unreachable at ${brokers.join(',')} (${(err as Error).message}); run "npm run infra:up"`);
  } finally {
    await kafkaAdmin.disconnect();
  }
  const config = appConfig();
  const kafka = new KafkaService(config);
  const topics = requiredTopics(config.kafka.retention).map((t) => t.topic);
  await kafka.ensureTopics(requiredTopics(config.kafka.retention));
  await kafka.onApplicationShutdown();
  await Promise.all(consumerGroupIds(config.kafka.groupId).map((groupId) => startGroupAtEnd(brokers, groupId, topics)));
}

/**
 * Each of the run's consumer groups starts at the end of every topic, committed before any app joins: a group
 * with nothing committed would take the end as of its first fetch, and skip what a test wrote between
 * the app's start and that fetch. On a fresh broker, topics created a moment ago may have no leader
 * yet ("not the leader for that topic-partition"): each topic is asked again until it answers.
 */
async function startGroupAtEnd(brokers: string[], groupId: string, topics: string[]): Promise<void> {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    for (const topic of topics) {
      await waitFor(
        `${groupId} committed at the end of ${topic}`,
        async () => {
          const partitions = (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, offset: p.high }));
          await admin.setOffsets({ groupId, topic, partitions });
          return true;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
    }
  } finally {
    await admin.disconnect();
  }
}
