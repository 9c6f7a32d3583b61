import { deadLetterTopicOf, EVENT_TYPES, topicOf } from '../events';
import type { TopicSpec } from './kafka/kafka.service';

/** Every topic the app needs at start: one per event type, and a dead-letter topic beside each. */
export function requiredTopics(): TopicSpec[] {
  const topics = EVENT_TYPES.map(topicOf);
  return [...topics, ...topics.map(deadLetterTopicOf)].map((topic) => ({ topic }));
}
