import { Module } from '@nestjs/common';
import { PersistenceModule } from '../persistence/persistence.module';
import { EventConsumer } from './consumer/event-consumer.service';
import { DeadLetterService } from './consumer/dead-letter.service';
import { ConsumerMembership } from './kafka/consumer-membership';
import { KafkaService } from './kafka/kafka.service';
import { OutboxRelay } from './outbox/outbox-relay.service';
import { OutboxService } from './outbox/outbox.service';
import { UnitOfWork } from './unit-of-work';

/** Event plumbing: the Kafka client, the outbox and its relay, and the shared consumer pipeline. */
@Module({
  imports: [PersistenceModule],
  providers: [KafkaService, ConsumerMembership, OutboxService, OutboxRelay, UnitOfWork, DeadLetterService, EventConsumer],
  exports: [KafkaService, ConsumerMembership, OutboxService, OutboxRelay, UnitOfWork, EventConsumer],
})
export class MessagingModule {}
