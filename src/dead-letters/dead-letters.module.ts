import { Module } from '@nestjs/common';
import { MessagingModule } from '../messaging/messaging.module';
import { DeadLettersHttpController } from './dead-letters.http.controller';
import { DeadLettersService } from './dead-letters.service';

/** Admin API over the messages the consumer pipeline set aside (see messaging/consumer). */
@Module({
  imports: [MessagingModule],
  controllers: [DeadLettersHttpController],
  providers: [DeadLettersService],
})
export class DeadLettersModule {}
