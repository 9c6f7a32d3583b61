import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AnalyticsModule } from './analytics/analytics.module';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { HttpThrottlerGuard } from './common/http/http-throttler.guard';
import { appConfig, AppConfig } from './config/app.config';
import { validateEnv } from './config/env';
import { LoggingModule } from './common/logging/logging.module';
import { DeadLettersModule } from './dead-letters/dead-letters.module';
import { HealthModule } from './health/health.module';
import { ObservabilityModule } from './observability/observability.module';
import { MessagingModule } from './messaging/messaging.module';
import { OrdersModule } from './orders/orders.module';
import { IngestModule } from './persistence/ingest/ingest.module';
import { LiveModule } from './live/live.module';
import { PersistenceModule } from './persistence/persistence.module';
import { ProjectionsModule } from './projections/projections.module';
import { SchemasModule } from './schemas/schemas.module';
import { UsersModule } from './users/users.module';
import { WebhooksModule } from './webhooks/webhooks.module';

/**
 * Feature modules: users and orders (write side and reads), ingest of outside events.
 * Webhooks and analytics will react to events from their own modules (src/webhooks, src/analytics);
 * users and orders never import them.
 */
@Module({
  imports: [
    ConfigModule.forRoot({
      isGlobal: true,
      cache: true,
      load: [appConfig],
      validate: (raw) => {
        validateEnv(raw);
        return raw;
      },
    }),
    ThrottlerModule.forRootAsync({
      inject: [appConfig.KEY],
      useFactory: (config: AppConfig) => ({
        throttlers: [{ ttl: config.http.throttle.ttlMs, limit: config.http.throttle.limit }],
        skipIf: () => config.http.throttle.limit === 0,
      }),
    }),
    LoggingModule,
    ObservabilityModule,
    PersistenceModule,
    MessagingModule,
    UsersModule,
    OrdersModule,
    IngestModule,
    ProjectionsModule,
    SchemasModule,
    HealthModule,
    DeadLettersModule,
    AnalyticsModule,
    LiveModule,
    WebhooksModule,
  ],
  providers: [{ provide: APP_GUARD, useClass: HttpThrottlerGuard }],
})
export class AppModule {}
