import 'reflect-metadata';
import { config as loadDotenv } from 'dotenv';
import { appConfig } from '../config/app.config';
import { ConfigurationError } from '../config/env';
import { EVENT_TYPES, isEventType, readEventPayload, schemaVersionOf, topicOf } from '../events';
import { CE } from '../messaging/envelope';
import { KafkaReplayer, ReplayedRecord, ReplayRefusedError } from '../messaging/kafka/kafka-replay';
import { parseReplayKafkaArgs, REPLAY_KAFKA_USAGE, UsageError } from './replay-kafka.args';

/**
 * `npm run replay:kafka -- --group <id> --from-time 2026-11-25T10:00:00Z --until-end`: prints each record
 * as a JSON line, with its event read as the current schema version, for a new read model or another
 * service to consume (pipe it on).
 */
async function main(): Promise<number> {
  loadDotenv({ quiet: true });
  const args = parseReplayKafkaArgs(process.argv.slice(2), EVENT_TYPES.map(topicOf));
  const replayer = new KafkaReplayer(appConfig().kafka);
  if (args.dryRun) {
    for (const s of await replayer.plan(args.topics, args.start)) console.log(JSON.stringify(s));
    return 0;
  }
  const aborted = new AbortController();
  process.once('SIGINT', () => aborted.abort());
  process.once('SIGTERM', () => aborted.abort());
  const { records } = await replayer.run({ ...args, signal: aborted.signal, onRecord: (r) => void console.log(JSON.stringify(toLine(r))) });
  console.error(`replay:kafka: ${records} record(s) under group ${args.groupId}`);
  return 0;
}

function toLine(r: ReplayedRecord) {
  const text = r.value?.toString('utf8') ?? null;
  let value: unknown = text;
  try {
    value = text === null ? null : JSON.parse(text);
  } catch {
    // Not JSON: printed as the text it is.
  }
  const line = { topic: r.topic, partition: r.partition, offset: r.offset, timestamp: new Date(Number(r.timestamp)).toISOString(), key: r.key, headers: r.headers, value };
  if (!isEventType(r.topic)) return line;
  const schema = schemaVersionOf(r.topic, r.headers[CE.dataschema]);
  const read = schema.ok ? readEventPayload(r.topic, value, schema.version) : schema;
  return { ...line, event: read.ok ? { type: r.topic, schemaVersion: read.version, payload: read.payload } : { type: r.topic, error: read.reason } };
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) console.error(`${err.message}\n\n${REPLAY_KAFKA_USAGE}`);
    else if (err instanceof ConfigurationError || err instanceof ReplayRefusedError) console.error(`replay:kafka: ${err.message}`);
    else console.error(`replay:kafka failed: ${(err as Error).message}`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
