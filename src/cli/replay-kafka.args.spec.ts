import { parseReplayKafkaArgs, UsageError } from './replay-kafka.args';

const TOPICS = ['user_created', 'order_placed'];
const parse = (line: string) => parseReplayKafkaArgs(line.split(' ').filter(Boolean), TOPICS);

describe('parseReplayKafkaArgs', () => {
  it('replays every event topic from the beginning under the group given', () => {
    expect(parse('--group audit-1 --from-beginning')).toEqual({
      groupId: 'audit-1',
      topics: TOPICS,
      start: { from: 'beginning' },
      untilEnd: false,
      dryRun: false,
      force: false,
    });
  });

  it('reads --from-time as an instant', () => {
    expect(parse('--group g --from-time 2026-11-25T10:00:00Z --until-end').start).toEqual({ from: 'time', at: new Date('2026-11-25T10:00:00Z') });
  });

  it('reads repeated --offset and replays only their topics', () => {
    const args = parse('--group g --offset user_created:0:42 --offset user_created:3:7');

    expect(args.start).toEqual({
      from: 'offsets',
      offsets: [
        { topic: 'user_created', partition: 0, offset: '42' },
        { topic: 'user_created', partition: 3, offset: '7' },
      ],
    });
    expect(args.topics).toEqual(['user_created']);
  });

  it('restricts to the topics named with --topic', () => {
    expect(parse('--group g --from-beginning --topic order_placed').topics).toEqual(['order_placed']);
  });

  it.each([
    ['--from-beginning', '--group is required'],
    ['--group g', 'exactly one of'],
    ['--group g --from-beginning --from-time 2026-11-25T10:00:00Z', 'exactly one of'],
    ['--group g --from-time yesterday', 'not an ISO 8601 date-time'],
    ['--group g --offset user_created:x:1', 'must be <topic>:<partition>:<offset>'],
    ['--group bad/group --from-beginning', '--group may hold'],
    ['--group g --from-beginning --verbose', 'unknown argument --verbose'],
    ['--group --from-beginning', '--group needs a value'],
  ])('refuses %j: %s', (line, message) => {
    expect(() => parse(line)).toThrow(UsageError);
    expect(() => parse(line)).toThrow(message);
  });
});
