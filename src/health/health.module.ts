import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { MessagingModule } from '../messaging/messaging.module';
import { HealthHttpController } from './health.http.controller';

@Module({
  imports: [TerminusModule, MessagingModule],
  controllers: [HealthHttpController],
})
export class HealthModule {}
