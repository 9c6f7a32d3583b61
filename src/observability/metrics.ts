import { InjectMetric, makeCounterProvider, makeGaugeProvider, makeHistogramProvider } from '@willsoto/nestjs-prometheus';
import { Injectable } from '@nestjs/common';
import type { Counter, Histogram } from 'prom-client';
import { DataSource } from 'typeorm';

/** Metric names, in one place. Prometheus convention: `_total` counters, base units (seconds). */
export const METRIC = {
  httpRequests: 'nestream_http_requests_total',
  httpDuration: 'nestream_http_request_duration_seconds',
  eventsWritten: 'nestream_events_written_total',
  eventsPublished: 'nestream_events_published_total',
  eventsConsumed: 'nestream_events_consumed_total',
  deadLetters: 'nestream_dead_letters_total',
  outboxBacklog: 'nestream_outbox_backlog',
  outboxOldestAge: 'nestream_outbox_oldest_age_seconds',
  webhookAttempts: 'nestream_webhook_attempts_total',
  webhookDuration: 'nestream_webhook_attempt_duration_seconds',
} as const;

export type ConsumeOutcome = 'processed' | 'duplicate' | 'ignored' | 'retried' | 'dead_lettered';

export const metricProviders = [
  makeCounterProvider({ name: METRIC.httpRequests, help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'] }),
  makeHistogramProvider({
    name: METRIC.httpDuration,
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  }),
  makeCounterProvider({ name: METRIC.eventsWritten, help: 'Events written to the outbox, by topic', labelNames: ['topic'] }),
  makeCounterProvider({ name: METRIC.eventsPublished, help: 'Records published to Kafka by the outbox relay, by topic', labelNames: ['topic'] }),
  makeCounterProvider({
    name: METRIC.eventsConsumed,
    help: 'Records handled by consumers, by topic, consumer and outcome',
    labelNames: ['topic', 'consumer', 'outcome'],
  }),
  makeCounterProvider({ name: METRIC.deadLetters, help: 'Messages set aside on dead-letter topics', labelNames: ['topic', 'consumer'] }),
  makeCounterProvider({ name: METRIC.webhookAttempts, help: 'Webhook delivery attempts by outcome', labelNames: ['outcome'] }),
  makeHistogramProvider({
    name: METRIC.webhookDuration,
    help: 'Webhook delivery attempt latency',
    labelNames: ['outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
  }),
  // Backlog gauges are read from the database when Prometheus scrapes, so every instance reports the truth.
  makeGaugeProvider({
    name: METRIC.outboxBacklog,
    help: 'Records waiting in the outbox',
    inject: [DataSource],
    async collect(dataSource: DataSource) {
      const [row] = await dataSource.query(`SELECT count(*)::int AS n FROM outbox`).catch(() => [{ n: NaN }]);
      this.set(row.n);
    },
  }),
  makeGaugeProvider({
    name: METRIC.outboxOldestAge,
    help: 'Age of the oldest record waiting in the outbox',
    inject: [DataSource],
    async collect(dataSource: DataSource) {
      const [row] = await dataSource
        .query(`SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS age FROM outbox`)
        .catch(() => [{ age: NaN }]);
      this.set(row.age);
    },
  }),
];

/** What the plumbing records; a small facade so services do not juggle label names. */
@Injectable()
export class Metrics {
  constructor(
    @InjectMetric(METRIC.eventsWritten) private readonly written: Counter<'topic'>,
    @InjectMetric(METRIC.eventsPublished) private readonly published: Counter<'topic'>,
    @InjectMetric(METRIC.eventsConsumed) private readonly consumed: Counter<'topic' | 'consumer' | 'outcome'>,
    @InjectMetric(METRIC.deadLetters) private readonly deadLetters: Counter<'topic' | 'consumer'>,
    @InjectMetric(METRIC.webhookAttempts) private readonly webhookAttempts: Counter<'outcome'>,
    @InjectMetric(METRIC.webhookDuration) private readonly webhookDuration: Histogram<'outcome'>,
  ) {}

  eventWritten(topic: string): void {
    this.written.inc({ topic });
  }

  eventsPublished(topic: string, count: number): void {
    this.published.inc({ topic }, count);
  }

  eventConsumed(topic: string, consumer: string, outcome: ConsumeOutcome): void {
    this.consumed.inc({ topic, consumer, outcome });
  }

  deadLettered(topic: string, consumer: string): void {
    this.deadLetters.inc({ topic, consumer });
  }

  webhookAttempt(outcome: 'succeeded' | 'failed', seconds: number): void {
    this.webhookAttempts.inc({ outcome });
    this.webhookDuration.observe({ outcome }, seconds);
  }
}
