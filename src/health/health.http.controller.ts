import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { OutboxService } from '../messaging/outbox/outbox.service';

@ApiTags('health')
@Controller('health')
export class HealthHttpController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly outbox: OutboxService,
    private readonly dataSource: DataSource,
  ) {}

  /** The process is up and serving HTTP; restart it only when this fails. */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Ready for traffic: the database answers; the outbox backlog is reported alongside. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.db.pingCheck('database', { timeout: 2000 }),
      async () => {
        const backlog = await this.outbox.backlog(this.dataSource.manager);
        return this.indicators.check('outbox').up({ pending: backlog.count, oldestAgeMs: Math.round(backlog.oldestAgeMs) });
      },
    ]);
  }
}
