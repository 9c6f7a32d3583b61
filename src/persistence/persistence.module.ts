import { Inject, Injectable, Logger, Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { appConfig, AppConfig } from '../config/app.config';
import { databaseOptions } from './database-options';
import { EventLogReader } from './event-log/event-log.reader';
import { EventLogService } from './event-log/event-log.service';
import { FoldService } from './event-log/fold.service';
import { runMigrations } from './migrate';

@Injectable()
class MigrateOnStart implements OnModuleInit {
  private readonly logger = new Logger('Migrations');

  constructor(
    private readonly dataSource: DataSource,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.config.database.migrateOnStart) return;
    const applied = await runMigrations(this.dataSource);
    this.logger.log(applied.length ? `applied ${applied.join(', ')}` : 'database is up to date');
  }
}

/** Database connection, migrations and the event log (append, read, fold). Imports no feature module. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [appConfig.KEY],
      useFactory: (config: AppConfig) => ({
        ...databaseOptions(config.database),
        autoLoadEntities: true,
        retryAttempts: 5,
        retryDelay: 1000,
      }),
    }),
  ],
  providers: [EventLogService, EventLogReader, FoldService, MigrateOnStart],
  exports: [EventLogService, EventLogReader, FoldService],
})
export class PersistenceModule {}
