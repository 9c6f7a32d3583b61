import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MessagingModule } from '../messaging/messaging.module';
import { PersistenceModule } from '../persistence/persistence.module';
import { UsersModule } from '../users/users.module';
import { OrderEntity } from './order.entity';
import { OrdersEventsController } from './orders.events.controller';
import { OrdersHttpController } from './orders.http.controller';
import { OrdersService } from './orders.service';

const httpControllers = [OrdersHttpController];
const messageControllers = [OrdersEventsController];

@Module({
  imports: [TypeOrmModule.forFeature([OrderEntity]), MessagingModule, PersistenceModule, UsersModule],
  controllers: [...httpControllers, ...messageControllers],
  providers: [OrdersService],
  exports: [OrdersService],
})
export class OrdersModule {}
