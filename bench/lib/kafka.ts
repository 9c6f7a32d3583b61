import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Admin, AssignerProtocol, Kafka, logLevel, Partitioners } from 'kafkajs';
import { consumerGroupIds } from '../../src/messaging/kafka/consumer-groups';
import { requiredTopics } from '../../src/messaging/topics';
import { appConsumerGroups, ROOT } from '../settings';
import { freePort, killOnExit } from './processes';
import { nowMs, sleep, waitFor } from './time';

const KAFKA_DIR = join(ROOT, 'infra/kafka');
/** The harness's own traffic that warms the broker up before the first phase (BenchKafka.warmUp). */
export const WARMUP_TOPIC = 'nestream-bench.warmup';

export function kafkaVersion(): string {
  const m = /<kafka.version>([^<]+)<\/kafka.version>/.exec(readFileSync(join(KAFKA_DIR, 'pom.xml'), 'utf8'));
  return m?.[1] ?? 'unknown';
}

export function kafkaClient(brokers: string[], clientId = 'nestream-bench'): Kafka {
  return new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 200 } });
}

/**
 * A single-node KRaft broker of the project's Kafka version (the jars `npm run infra:up` fetched into
 * infra/kafka/lib), configured as infra/bin/lib.sh configures the development broker, on free ports and
 * with a fresh data folder under bench-results/. Keeps the benchmark's 100,000 records off the shared
 * broker, where every other consumer group (and every replay from the beginning) would have to read them.
 */
export class DedicatedBroker {
  private constructor(
    private readonly child: ChildProcess,
    readonly brokers: string[],
    readonly dir: string,
  ) {}

  static async start(outDir: string, runId: string, log: (line: string) => void): Promise<DedicatedBroker> {
    const lib = join(KAFKA_DIR, 'lib');
    if (!existsSync(lib) || !readdirSync(lib).some((f) => f.startsWith('kafka_2.13-'))) {
      throw new Error('infra/kafka/lib has no Kafka jars: run "npm run infra:up" once, or pass --kafka host:port');
    }
    const [port, controller] = [await freePort(), await freePort()];
    const dir = join(outDir, `kafka-${runId}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, 'data'), { recursive: true });
    const properties = join(dir, 'server.properties');
    writeFileSync(
      properties,
      [
        'process.roles=broker,controller',
        'node.id=1',
        `controller.quorum.voters=1@127.0.0.1:${controller}`,
        `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
        `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
        'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
        'controller.listener.names=CONTROLLER',
        'inter.broker.listener.name=PLAINTEXT',
        `log.dirs=${join(dir, 'data')}`,
        'num.partitions=6',
        'default.replication.factor=1',
        'min.insync.replicas=1',
        'auto.create.topics.enable=false',
        'offsets.topic.replication.factor=1',
        // One group-coordinator partition instead of 50: created in a moment on a busy machine.
        'offsets.topic.num.partitions=1',
        'transaction.state.log.replication.factor=1',
        'transaction.state.log.min.isr=1',
        'group.initial.rebalance.delay.ms=0',
        '',
      ].join('\n'),
    );
    const java = ['-Dlog4j.configuration=file:' + join(KAFKA_DIR, 'log4j.properties'), `-Dkafka.logs.dir=${dir}`, '-cp', join(lib, '*')];
    // A leading "-" would be read as an option by the storage tool (Kafka's own random-uuid avoids it too).
    let clusterId: string;
    do clusterId = randomBytes(16).toString('base64url');
    while (clusterId.startsWith('-'));
    const format = spawnSync('java', [...java, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', properties], { encoding: 'utf8' });
    if (format.status !== 0) throw new Error(`formatting the dedicated broker's storage failed: ${format.stderr || format.stdout}`);
    // The development broker's JVM settings (infra/bin/lib.sh).
    const jvm = ['-Xms256m', '-Xmx512m', '-server', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true'];
    const child = killOnExit(spawn('java', [...jvm, ...java, 'kafka.Kafka', properties], { stdio: 'ignore' }));
    // Its data goes with it, even when the harness dies (the process is killed by killOnExit).
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const broker = new DedicatedBroker(child, [`127.0.0.1:${port}`], dir);
    log(`dedicated Kafka ${kafkaVersion()} broker: pid ${child.pid} on 127.0.0.1:${port} (data in ${dir})`);
    const admin = kafkaClient(broker.brokers).admin();
    try {
      await waitFor(
        'the dedicated broker to answer',
        async () => {
          if (child.exitCode !== null) throw new Error(`the broker exited with ${child.exitCode}; see ${dir}/broker.log`);
          await admin.connect();
          const cluster = await admin.describeCluster();
          return cluster.brokers.length === 1;
        },
        { timeoutMs: 90_000, intervalMs: 500 },
      );
    } catch (err) {
      child.kill('SIGKILL');
      throw new Error(`${(err as Error).message} (broker log: ${dir}/broker.log)`);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    return broker;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    // Its data is thrown away, so there is nothing to shut down cleanly for.
    this.child.kill('SIGKILL');
    await exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Retries what a broker answers with a retriable error (a new topic's leader not known yet, a coordinator loading). */
async function retrying<T>(work: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 100; ; wait = Math.min(wait * 2, 2_000)) {
    try {
      return await work();
    } catch (err) {
      if (!(err as { retriable?: boolean }).retriable || Date.now() > deadline) throw err;
      await sleep(wait);
    }
  }
}

export interface RecordTap {
  /** Record timestamp (ms) per numeric id, as records arrive. */
  sentAt: Map<unknown, number>;
  stop(): Promise<void>;
}

/** Kafka housekeeping the harness needs: topics, group offsets, lag, and an outside producer. */
export class BenchKafka {
  readonly kafka: Kafka;
  private admin?: Admin;

  constructor(readonly brokers: string[]) {
    this.kafka = kafkaClient(brokers);
  }

  private async connected(): Promise<Admin> {
    if (!this.admin) {
      this.admin = this.kafka.admin();
      await this.admin.connect();
    }
    return this.admin;
  }

  /** The app's topics (its own list, with its default settings) and the harness's own topics. */
  async ensureTopics(extra: { topic: string; config?: Record<string, string> }[]): Promise<void> {
    const admin = await this.connected();
    const existing = new Set(await admin.listTopics());
    const specs = [...requiredTopics(), ...extra.map(({ topic, config }) => ({ topic, config: config ?? {} }))];
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((s) => ({
        topic: s.topic,
        numPartitions: 6,
        replicationFactor: 1,
        configEntries: Object.entries({ 'min.insync.replicas': '1', ...s.config }).map(([name, value]) => ({ name, value })),
      })),
    });
  }

  async appTopics(): Promise<string[]> {
    return requiredTopics().map((s) => s.topic);
  }

  /** Each partition's end offset. */
  async ends(topic: string): Promise<{ partition: number; offset: string }[]> {
    const admin = await this.connected();
    return (await retrying(() => admin.fetchTopicOffsets(topic))).map((p) => ({ partition: p.partition, offset: p.high }));
  }

  /**
   * Commits a new group's offsets at the given positions (default: the end of each topic), so it reads
   * only what is written from now on, not the history other runs left on a shared broker.
   */
  async positionGroup(groupId: string, topics: string[], at: Map<string, { partition: number; offset: string }[]> = new Map()): Promise<void> {
    const admin = await this.connected();
    for (const topic of topics) {
      const partitions = at.get(topic) ?? (await this.ends(topic));
      // A group that starts at the beginning of an empty topic needs no commit (its consumer must then
      // subscribe fromBeginning: kafkajs' default starts an uncommitted partition at its end, as of the
      // first fetch, and loses what was written before).
      if (partitions.every((p) => p.offset === '0')) continue;
      await retrying(() => admin.setOffsets({ groupId, topic, partitions }));
    }
  }

  /** Positions each of the app's consumer groups (one per consumer, named from `base`) like positionGroup. */
  async positionAppGroups(base: string, topics: string[]): Promise<void> {
    await Promise.all(consumerGroupIds(base).map((groupId) => this.positionGroup(groupId, topics)));
  }

  /**
   * Records the app's consumer groups have not consumed yet, each over the topics assigned to its
   * members (a group is positioned on every topic, but consumes only its own); at least 1 while a
   * group is not stable.
   */
  async appLag(base: string): Promise<number> {
    const admin = await this.connected();
    const { groups } = await retrying(() => admin.describeGroups(consumerGroupIds(base, appConsumerGroups())));
    let total = 0;
    for (const group of groups) {
      // A group between members (rebalancing, or not joined yet) has no assignment to read: not settled.
      if (group.state !== 'Stable') {
        total += 1;
        continue;
      }
      const topics = new Set<string>();
      for (const member of group.members) {
        const assigned = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
        for (const topic of Object.keys(assigned?.assignment ?? {})) topics.add(topic);
      }
      if (topics.size > 0) total += await this.lag(group.groupId, [...topics]);
    }
    return total;
  }

  /** Records the group has not consumed yet, over these topics. */
  async lag(groupId: string, topics: string[]): Promise<number> {
    const admin = await this.connected();
    const committed = await retrying(() => admin.fetchOffsets({ groupId, topics }));
    let total = 0;
    for (const topic of topics) {
      const done = new Map(committed.find((c) => c.topic === topic)?.partitions.map((p) => [p.partition, Number(p.offset)]));
      for (const end of await retrying(() => admin.fetchTopicOffsets(topic))) {
        const at = done.get(end.partition);
        total += Math.max(0, Number(end.high) - (at === undefined || at < 0 ? Number(end.low) : at));
      }
    }
    return total;
  }

  /**
   * An outside producer, like the origin document's Python one: plain JSON values, no key, no headers.
   * Sent in batches of `batch` with acks=all; resolves once the broker has them all.
   */
  async writePlainJson(topic: string, values: unknown[], batch = 2_000): Promise<void> {
    const producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await producer.connect();
    try {
      for (let i = 0; i < values.length; i += batch) {
        await producer.send({ topic, acks: -1, messages: values.slice(i, i + batch).map((v) => ({ value: JSON.stringify(v) })) });
      }
    } finally {
      await producer.disconnect();
    }
  }

  /**
   * A consumer of its own group, from the end of `topic`: each record's `data.id` (or `id`, for plain
   * JSON) and its timestamp, which the producer sets when it sends (kafkajs' default, CreateTime): when
   * the relay published it. Reads what the app reads, so it adds a little broker and harness CPU.
   */
  async tap(topic: string): Promise<RecordTap> {
    const groupId = `nestream-bench-tap-${randomBytes(4).toString('hex')}`;
    await this.positionGroup(groupId, [topic]);
    const consumer = this.kafka.consumer({ groupId, allowAutoTopicCreation: false });
    const sentAt = new Map<unknown, number>();
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let joined!: () => void;
    const hasJoined = new Promise<void>((resolve) => (joined = resolve));
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          try {
            const value = JSON.parse(m.value?.toString() ?? 'null');
            sentAt.set(Number(value?.data?.id ?? value?.id), Number(m.timestamp));
          } catch {
            // not JSON: not an order of this run
          }
        }
      },
    });
    await hasJoined;
    return { sentAt, stop: () => consumer.disconnect() };
  }

  /**
   * Produce-and-consume traffic on `topic` (acks=all, a consumer group with offset commits) until
   * `durationMs` has passed. A dedicated broker starts cold: in a run of the write phase alone its JIT
   * was still compiling, and its CPU per request was 1.5–2.2 times a warm one's.
   */
  async warmUp(topic: string, durationMs: number): Promise<{ produced: number; consumed: number }> {
    const groupId = `nestream-bench-warmup-${randomBytes(4).toString('hex')}`;
    await this.positionGroup(groupId, [topic]);
    const consumer = this.kafka.consumer({ groupId, allowAutoTopicCreation: false });
    const producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    let consumed = 0;
    let produced = 0;
    await Promise.all([consumer.connect(), producer.connect()]);
    try {
      // Small batches, many requests: the shape of the relay's and the consumers' traffic, not a bulk load.
      const send = async () => {
        const messages = Array.from({ length: 20 }, (_, i) => ({ key: String(produced + i), value: JSON.stringify({ id: produced + i, warmUp: true }) }));
        await producer.send({ topic, acks: -1, messages });
        produced += messages.length;
      };
      const deadline = nowMs() + durationMs;
      // One batch before the group joins, every time: the smoke test then fails on any machine if the
      // consumer could start past records written before it (a join that came late once lost 20 of 760).
      await send();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({ partitionsConsumedConcurrently: 6, eachBatch: async ({ batch }) => void (consumed += batch.messages.length) });
      while (nowMs() < deadline) await send();
      await waitFor('the warm-up consumer to catch up', async () => consumed >= produced, { timeoutMs: 30_000, intervalMs: 100 }).catch(() => undefined);
    } finally {
      await Promise.all([consumer.disconnect(), producer.disconnect()]);
    }
    return { produced, consumed };
  }

  async close(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = undefined;
  }
}
