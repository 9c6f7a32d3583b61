import type { ReplayStart } from '../messaging/kafka/kafka-replay';

export interface ReplayKafkaArgs {
  groupId: string;
  topics: string[];
  start: ReplayStart;
  untilEnd: boolean;
  dryRun: boolean;
  force: boolean;
}

export const REPLAY_KAFKA_USAGE = `usage: npm run replay:kafka -- --group <new group id> <start> [options]
start (one of):
  --from-beginning                  every record still retained
  --from-time <ISO 8601>            the first record at or after that instant, per partition
  --offset <topic:partition:offset> that partition from that offset (repeatable; other partitions start at their end)
options:
  --topic <topic>                   replay only this topic (repeatable; default: every event topic)
  --until-end                       stop at the end each partition had when the replay started
  --dry-run                         print where each partition would start, consume nothing
  --force                           allow a group that already has committed offsets
Records are printed to stdout as JSON lines.`;

export class UsageError extends Error {}

/** Parses the CLI's arguments; throws a UsageError naming what is wrong. */
export function parseReplayKafkaArgs(argv: string[], defaultTopics: readonly string[]): ReplayKafkaArgs {
  let groupId: string | undefined;
  const topics: string[] = [];
  const starts: ReplayStart[] = [];
  const offsets: { topic: string; partition: number; offset: string }[] = [];
  let untilEnd = false;
  let dryRun = false;
  let force = false;
  const value = (i: number, flag: string) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    switch (arg) {
      case '--group':
        groupId = value(i, arg);
        if (!/^[A-Za-z0-9._-]+$/.test(groupId)) throw new UsageError('--group may hold letters, digits, ".", "_" and "-"');
        i += 1;
        break;
      case '--topic':
        topics.push(value(i, arg));
        i += 1;
        break;
      case '--from-beginning':
        starts.push({ from: 'beginning' });
        break;
      case '--from-time': {
        const text = value(i, arg);
        const at = new Date(text);
        if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(at.getTime())) throw new UsageError(`--from-time ${text} is not an ISO 8601 date-time`);
        starts.push({ from: 'time', at });
        i += 1;
        break;
      }
      case '--offset': {
        const text = value(i, arg);
        const m = /^(.+):(\d+):(\d+)$/.exec(text);
        if (!m) throw new UsageError(`--offset ${text} must be <topic>:<partition>:<offset>`);
        offsets.push({ topic: m[1], partition: Number(m[2]), offset: m[3] });
        i += 1;
        break;
      }
      case '--until-end':
        untilEnd = true;
        break;
      case '--dry-run':
        dryRun = true;
        break;
      case '--force':
        force = true;
        break;
      default:
        throw new UsageError(`unknown argument ${arg}`);
    }
  }
  if (offsets.length > 0) starts.push({ from: 'offsets', offsets });
  if (!groupId) throw new UsageError('--group is required: a new consumer group id for this replay');
  if (starts.length !== 1) throw new UsageError('give exactly one of --from-beginning, --from-time or --offset');
  const named = offsets.map((o) => o.topic);
  return {
    groupId,
    topics: [...new Set(topics.length > 0 ? topics : named.length > 0 ? named : defaultTopics)],
    start: starts[0],
    untilEnd,
    dryRun,
    force,
  };
}
