import { randomUUID } from 'node:crypto';
import { Consumer, IHeaders, Kafka, logLevel, Partitioners, Producer } from 'kafkajs';
import { waitFor } from './wait-for';

export interface ReadRecord {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

function kafka(): Kafka {
  return new Kafka({ clientId: 'e2e-probe', brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING });
}

/**
 * Reads what the app publishes: remembers each partition's end offset when started, so records left by
 * earlier runs are ignored, then collects everything written after that.
 */
export class KafkaProbe {
  readonly records: ReadRecord[] = [];
  private constructor(private readonly consumer: Consumer) {}

  static async start(topics: string[]): Promise<KafkaProbe> {
    const client = kafka();
    const admin = client.admin();
    await admin.connect();
    const start = new Map<string, bigint>();
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) start.set(`${topic}:${p.partition}`, BigInt(p.high));
    }
    await admin.disconnect();

    const consumer = client.consumer({ groupId: `e2e-probe-${randomUUID()}`, allowAutoTopicCreation: false });
    const probe = new KafkaProbe(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        if (BigInt(message.offset) < (start.get(`${topic}:${partition}`) ?? 0n)) return;
        probe.records.push({
          topic,
          partition,
          offset: message.offset,
          timestamp: message.timestamp,
          key: message.key?.toString() ?? null,
          value: message.value?.toString() ?? null,
          headers: stringHeaders(message.headers),
        });
      },
    });
    return probe;
  }

  /** Waits for the first record matching `match`. */
  next(what: string, match: (r: ReadRecord) => boolean, timeoutMs = 20_000): Promise<ReadRecord> {
    return waitFor(what, () => this.records.find(match), { timeoutMs });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

/** A producer outside Nestream: plain JSON values, no headers, like the origin document's Python producer. */
export class OutsideProducer {
  private constructor(private readonly producer: Producer) {}

  static async connect(): Promise<OutsideProducer> {
    const producer = kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await producer.connect();
    return new OutsideProducer(producer);
  }

  async send(topic: string, value: string | Buffer, key: string | null = null, headers?: IHeaders): Promise<void> {
    await this.producer.send({ topic, messages: [{ key, value, headers }] });
  }

  sendJson(topic: string, value: unknown): Promise<void> {
    return this.send(topic, JSON.stringify(value));
  }

  /** Writes to one partition; resolves with the record's offset. */
  async sendJsonTo(topic: string, partition: number, value: unknown): Promise<bigint> {
    const [written] = await this.producer.send({ topic, messages: [{ partition, value: JSON.stringify(value) }] });
    return BigInt(written.baseOffset ?? written.offset!);
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}

function stringHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(headers ?? {})) if (v !== undefined) out[name] = v.toString();
  return out;
}
