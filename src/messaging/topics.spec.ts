import { EVENT_TYPES } from '../events';
import { requiredTopics } from './topics';

describe('requiredTopics', () => {
  const specs = requiredTopics({ eventsMs: 604_800_000, deadLettersMs: -1 });
  const byName = new Map(specs.map((s) => [s.topic, s.config]));

  it('lists every event topic and a dead-letter topic beside each', () => {
    expect(specs).toHaveLength(EVENT_TYPES.length * 2);
    for (const type of EVENT_TYPES) {
      expect(byName.has(type)).toBe(true);
      expect(byName.has(`${type}.dlq`)).toBe(true);
    }
  });

  it('gives event topics KAFKA_RETENTION_MS and dead-letter topics KAFKA_DLQ_RETENTION_MS', () => {
    expect(byName.get('user_created')).toEqual({ 'cleanup.policy': 'delete', 'retention.ms': '604800000' });
    expect(byName.get('user_created.dlq')).toEqual({ 'cleanup.policy': 'delete', 'retention.ms': '-1' });
  });

  it('compacts no topic, since outside producers write records without keys', () => {
    expect(specs.every((s) => s.config?.['cleanup.policy'] === 'delete')).toBe(true);
  });
});
