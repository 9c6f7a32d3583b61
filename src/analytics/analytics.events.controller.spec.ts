import type { KafkaContext } from '@nestjs/microservices';
import type { EntityManager } from 'typeorm';
import type { AppConfig } from '../config/app.config';
import type { EventConsumer } from '../messaging/consumer/event-consumer.service';
import { AnalyticsEventsController } from './analytics.events.controller';
import type { AnomalyPublisher } from './anomaly-publisher.service';
import type { Finding } from './anomaly-rules';
import { OrderAggregator } from './order-aggregator.service';

describe('AnalyticsEventsController: waking the anomaly publisher', () => {
  const finding = { key: 'k', rule: 'amount_outlier', message: 'm', observed: 1, threshold: 0, details: {} } as unknown as Finding;
  // The database's answer to recording the finding: a row when it is new, none when its key was recorded before.
  const recordingAnswers = (answers: unknown[][]) => ({ query: jest.fn(async () => answers.shift() ?? []) }) as unknown as EntityManager;

  function setUp(answers: unknown[][]) {
    const aggregator = new OrderAggregator({} as AppConfig);
    const em = recordingAnswers(answers);
    // Stands in for the pipeline and the fold: each handled event records the finding, then "commits".
    type Recording = { recordAll(em: EntityManager, findings: { finding: Finding; context: object }[]): Promise<void> };
    const recordAll = (aggregator as unknown as Recording).recordAll.bind(aggregator);
    const consumer = { handle: async () => recordAll(em, [{ finding, context: { occurredAt: new Date() } }]) };
    const publisher = { wake: jest.fn() };
    const controller = new AnalyticsEventsController(consumer as unknown as EventConsumer, aggregator, publisher as unknown as AnomalyPublisher);
    return { controller, publisher };
  }
  const ctx = {} as KafkaContext;

  it('wakes it after an event that recorded a new anomaly', async () => {
    const { controller, publisher } = setUp([[{ '?column?': 1 }]]);
    await controller.orderPlaced(ctx);
    expect(publisher.wake).toHaveBeenCalledTimes(1);
  });

  it('leaves it asleep when nothing new was recorded (a pass would publish nothing)', async () => {
    const { controller, publisher } = setUp([[], []]);
    await controller.orderPlaced(ctx);
    await controller.orderCancelled(ctx);
    expect(publisher.wake).not.toHaveBeenCalled();
  });
});
