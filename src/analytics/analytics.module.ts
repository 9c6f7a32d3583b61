import { Module } from '@nestjs/common';
import { MessagingModule } from '../messaging/messaging.module';
import { AnalyticsEventsController } from './analytics.events.controller';
import { AnalyticsHttpController } from './analytics.http.controller';
import { AnalyticsQueryService } from './analytics-query.service';
import { AnomalyPublisher } from './anomaly-publisher.service';
import { DashboardHttpController } from './dashboard/dashboard.http.controller';
import { OrderAggregator } from './order-aggregator.service';
import { PipelineHealthService } from './pipeline-health.service';

const httpControllers = [AnalyticsHttpController, DashboardHttpController];
const messageControllers = [AnalyticsEventsController];
const eventHandlers = [OrderAggregator, AnomalyPublisher];
const queries = [AnalyticsQueryService, PipelineHealthService];

/**
 * Stream analytics: windowed aggregates of order events, anomaly rules and the dashboard. Reacts to
 * events only; users and orders never import it.
 */
@Module({
  imports: [MessagingModule],
  controllers: [...httpControllers, ...messageControllers],
  providers: [...eventHandlers, ...queries],
})
export class AnalyticsModule {}
