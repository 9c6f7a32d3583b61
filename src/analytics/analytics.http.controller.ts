import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ParseIdPipe } from '../common/http/parse-id.pipe';
import { AnalyticsQueryService } from './analytics-query.service';
import { AnomaliesQuery, SummaryQuery, TopProductsQuery } from './dto/analytics.request.dto';
import { PipelineHealthService } from './pipeline-health.service';

@ApiTags('analytics')
@Controller('analytics')
export class AnalyticsHttpController {
  constructor(
    private readonly analytics: AnalyticsQueryService,
    private readonly pipeline: PipelineHealthService,
  ) {}

  /** The windows `window=` accepts: the one-minute tumbling window and the configured hopping window. */
  @Get('windows')
  windows() {
    return this.analytics.windows();
  }

  @Get('summary')
  summary(@Query() query: SummaryQuery) {
    return this.analytics.summary(query);
  }

  @Get('products/top')
  topProducts(@Query() query: TopProductsQuery) {
    return this.analytics.topProducts(query);
  }

  @Get('users/:id')
  user(@Param('id', ParseIdPipe) id: number) {
    return this.analytics.user(id);
  }

  @Get('anomalies')
  anomalies(@Query() query: AnomaliesQuery) {
    return this.analytics.anomalies(query);
  }

  /** Dead letters, consumer lag and webhook delivery health, for the dashboard. */
  @Get('pipeline')
  pipelineHealth() {
    return this.pipeline.health();
  }
}
