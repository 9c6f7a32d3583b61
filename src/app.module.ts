import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { appConfig } from './config/app.config';
import { validateEnv } from './config/env';
import { LoggingModule } from './common/logging/logging.module';
import { HealthModule } from './health/health.module';
import { ObservabilityModule } from './observability/observability.module';
import { MessagingModule } from './messaging/messaging.module';
import { OrdersModule } from './orders/orders.module';
import { IngestModule } from './persistence/ingest/ingest.module';
import { PersistenceModule } from './persistence/persistence.module';
import { UsersModule } from './users/users.module';

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
    LoggingModule,
    ObservabilityModule,
    PersistenceModule,
    MessagingModule,
    UsersModule,
    OrdersModule,
    IngestModule,
    HealthModule,
  ],
})
export class AppModule {}
