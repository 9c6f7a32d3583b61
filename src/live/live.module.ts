import { Module } from '@nestjs/common';
import { MessagingModule } from '../messaging/messaging.module';
import { LiveEventsController } from './live.events.controller';
import { LiveHttpController } from './live.http.controller';
import { LiveFeedService } from './live-feed.service';

const httpControllers = [LiveHttpController];
const messageControllers = [LiveEventsController];

/** `GET /events/stream`: Server-Sent Events of every consumed domain event, resumable by id. */
@Module({
  imports: [MessagingModule],
  controllers: [...httpControllers, ...messageControllers],
  providers: [LiveFeedService],
})
export class LiveModule {}
