import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Topics } from '../src/events';
import { appConfig } from '../src/config/app.config';
import { KafkaReplayer, ReplayedRecord, ReplayRefusedError } from '../src/messaging/kafka/kafka-replay';
import { E2eApp, startE2eApp } from './support/e2e-app';
import { aUser, unique } from './support/factories';
import { KafkaProbe, ReadRecord } from './support/kafka';
import { waitFor } from './support/wait-for';
import { consumerGroupId, ConsumerGroups } from '../src/messaging/kafka/consumer-groups';

describe('Replaying Kafka topics under a new consumer group', () => {
  let e2e: E2eApp;
  let probe: KafkaProbe;
  let replayer: KafkaReplayer;

  beforeAll(async () => {
    probe = await KafkaProbe.start([Topics.UserCreated]);
    e2e = await startE2eApp();
    replayer = new KafkaReplayer(appConfig().kafka);
  });
  afterAll(async () => {
    await e2e?.close();
    await probe?.stop();
  });

  async function published(): Promise<{ user: { id: number; name: string }; record: ReadRecord }> {
    const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
    const record = await probe.next(`user_created for ${user.id}`, (r) => r.key === String(user.id));
    return { user, record };
  }

  async function replay(options: Omit<Parameters<KafkaReplayer['run']>[0], 'onRecord' | 'groupId' | 'topics'>, groupId = unique('e2e-replay')) {
    const records: ReplayedRecord[] = [];
    const result = await replayer.run({ groupId, topics: [Topics.UserCreated], untilEnd: true, ...options, onRecord: (r) => void records.push(r) });
    return { ...result, records };
  }

  it('starts from the first record at or after an instant (offsets for times), under a new group', async () => {
    const before = await published();
    // Every record from here on is stamped after `from`, every earlier one before it.
    const from = new Date(Date.now() + 1);
    await waitFor('the clock to pass the replay instant', () => Date.now() > from.getTime(), { intervalMs: 1 });
    const afterwards = await published();

    const { records } = await replay({ start: { from: 'time', at: from } });

    const ids = records.map((r) => JSON.parse(r.value!.toString()).id);
    expect(ids).toContain(afterwards.user.id);
    expect(ids).not.toContain(before.user.id);
    expect(records.every((r) => Number(r.timestamp) >= from.getTime())).toBe(true);
    expect(records.find((r) => r.key === String(afterwards.user.id))!.headers.ce_id).toBe(afterwards.record.headers.ce_id);
  });

  it('starts a partition at a given offset, and the partitions not named at their end', async () => {
    const { user, record } = await published();

    const { records, starts } = await replay({ start: { from: 'offsets', offsets: [{ topic: Topics.UserCreated, partition: record.partition, offset: record.offset }] } });

    expect(records[0]).toMatchObject({ partition: record.partition, offset: record.offset, key: String(user.id) });
    expect(records.every((r) => r.partition === record.partition)).toBe(true);
    expect(starts.filter((s) => s.partition !== record.partition).every((s) => s.offset === s.end)).toBe(true);
  });

  it('commits what it replayed, so the group is not new any more and a second replay under it is refused', async () => {
    const groupId = unique('e2e-replay');
    const from = new Date();
    const { record } = await published();

    await replay({ start: { from: 'time', at: from } }, groupId);

    await expect(replay({ start: { from: 'time', at: from } }, groupId)).rejects.toThrow(
      new ReplayRefusedError(`consumer group ${groupId} already has committed offsets; pick a new group id (or --force to move it)`),
    );
    const again = await replay({ start: { from: 'offsets', offsets: [{ topic: Topics.UserCreated, partition: record.partition, offset: record.offset }] }, force: true }, groupId);
    expect(again.records[0]).toMatchObject({ offset: record.offset });
  });

  it("refuses to move a group that is running, such as the app's own", async () => {
    const run = replayer.run({ groupId: consumerGroupId(process.env.KAFKA_GROUP_ID!, ConsumerGroups.Persistence), topics: [Topics.UserCreated], start: { from: 'beginning' }, untilEnd: true, onRecord: () => undefined });

    await expect(run).rejects.toThrow(ReplayRefusedError);
  });

  it('prints the records as JSON lines from the command line, each event read as the current schema version', async () => {
    const from = new Date(Date.now() + 1);
    await waitFor('the clock to pass the replay instant', () => Date.now() > from.getTime(), { intervalMs: 1 });
    const { user } = await published();
    const root = join(__dirname, '..');

    const run = spawnSync(
      join(root, 'node_modules/.bin/ts-node'),
      ['--transpile-only', 'src/cli/replay-kafka.ts', '--group', unique('e2e-cli-replay'), '--from-time', from.toISOString(), '--topic', Topics.UserCreated, '--until-end'],
      { cwd: root, env: process.env, encoding: 'utf8', timeout: 60_000 },
    );

    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.find((l) => l.key === String(user.id))).toMatchObject({
      topic: 'user_created',
      value: user,
      event: { type: 'user_created', schemaVersion: 2, payload: user },
    });
  }, 70_000);
});
