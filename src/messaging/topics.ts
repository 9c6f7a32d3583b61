import { deadLetterTopicOf, EVENT_TYPES, topicOf } from '../events';
import type { TopicSpec } from './kafka/kafka.service';

export interface TopicRetention {
  /** retention.ms of event topics; -1 keeps them forever. */
  eventsMs: number;
  /** retention.ms of dead-letter topics; -1 keeps them forever. */
  deadLettersMs: number;
}

/**
 * Every topic the app needs at start: one per event type, and a dead-letter topic beside each. None is
 * compacted: a topic per event type is a history, not a latest-value changelog, and outside producers
 * write records without keys, which a compacted topic refuses.
 */
export function requiredTopics(retention: TopicRetention = { eventsMs: -1, deadLettersMs: -1 }): TopicSpec[] {
  const topics = EVENT_TYPES.map(topicOf);
  const spec = (topic: string, retentionMs: number): TopicSpec => ({
    topic,
    config: { 'cleanup.policy': 'delete', 'retention.ms': String(retentionMs) },
  });
  return [...topics.map((t) => spec(t, retention.eventsMs)), ...topics.map((t) => spec(deadLetterTopicOf(t), retention.deadLettersMs))];
}
