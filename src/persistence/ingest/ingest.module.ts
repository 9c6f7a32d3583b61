import { Module } from '@nestjs/common';
import { MessagingModule } from '../../messaging/messaging.module';
import { OrdersModule } from '../../orders/orders.module';
import { UsersModule } from '../../users/users.module';
import { PersistenceModule } from '../persistence.module';
import { IngestEventsController } from './ingest.events.controller';
import { IngestService } from './ingest.service';

const messageControllers = [IngestEventsController];

/** Ingest of outside producers' events; kept apart from PersistenceModule, which imports no feature. */
@Module({
  imports: [PersistenceModule, MessagingModule, UsersModule, OrdersModule],
  controllers: [...messageControllers],
  providers: [IngestService],
})
export class IngestModule {}
