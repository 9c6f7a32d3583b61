import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MessagingModule } from '../messaging/messaging.module';
import { PersistenceModule } from '../persistence/persistence.module';
import { UserEntity } from './user.entity';
import { UsersHttpController } from './users.http.controller';
import { UsersService } from './users.service';

const httpControllers = [UsersHttpController];

@Module({
  imports: [TypeOrmModule.forFeature([UserEntity]), MessagingModule, PersistenceModule],
  controllers: [...httpControllers],
  providers: [UsersService],
  exports: [UsersService],
})
export class UsersModule {}
