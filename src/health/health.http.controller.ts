import { BeforeApplicationShutdown, Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import { DataSource } from 'typeorm';
import { appConfig, AppConfig } from '../config/app.config';
import { ConsumerMembership } from '../messaging/kafka/consumer-membership';
import { OutboxRelay } from '../messaging/outbox/outbox-relay.service';
import { OutboxService } from '../messaging/outbox/outbox.service';

@ApiTags('health')
@SkipThrottle()
@Controller('health')
export class HealthHttpController implements BeforeApplicationShutdown {
  private shuttingDown = false;

  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly outbox: OutboxService,
    private readonly relay: OutboxRelay,
    private readonly membership: ConsumerMembership,
    private readonly dataSource: DataSource,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  /**
   * Readiness turns false as soon as shutdown begins; HTTP keeps serving for the drain period so
   * load balancers notice before connections are refused.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    if (this.config.shutdown.drainMs > 0) await new Promise((resolve) => setTimeout(resolve, this.config.shutdown.drainMs));
  }

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process serves HTTP (restart it only when this fails)' })
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: database, Kafka producer, consumer group membership, outbox backlog' })
  @ApiOkResponse({ description: 'Ready for traffic' })
  @ApiServiceUnavailableResponse({ description: 'Not ready; the body says which check failed' })
  ready() {
    const maxAgeMs = this.config.outbox.readyMaxAgeMs;
    return this.health.check([
      () => {
        const check = this.indicators.check('lifecycle');
        return this.shuttingDown ? check.down({ message: 'shutting down' }) : check.up();
      },
      () => this.db.pingCheck('database', { timeout: 2000 }),
      () => {
        const check = this.indicators.check('kafka_producer');
        const since = this.relay.failingSince;
        // A short broker outage is absorbed by the outbox; only a long one takes the instance out.
        if (since && Date.now() - since.getTime() > maxAgeMs) return check.down({ failingSince: since.toISOString() });
        return check.up(since ? { failingSince: since.toISOString() } : {});
      },
      () => {
        const check = this.indicators.check('kafka_consumer');
        if (!this.config.role.consumes) return check.up({ state: `not consuming (APP_ROLE=${this.config.role.name})` });
        // Every consumer group's member, each shown by name.
        const { state, states: groups } = this.membership;
        return state === 'member' || state === 'rebalancing' ? check.up({ state, groups }) : check.down({ state, groups });
      },
      async () => {
        const check = this.indicators.check('outbox');
        try {
          const backlog = await this.outbox.backlog(this.dataSource.manager);
          const data = { pending: backlog.count, oldestAgeMs: Math.round(backlog.oldestAgeMs) };
          return backlog.oldestAgeMs > maxAgeMs ? check.down(data) : check.up(data);
        } catch (err) {
          return check.down({ message: (err as Error).message });
        }
      },
    ]);
  }
}
