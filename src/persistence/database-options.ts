import { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/app.config';
import { MIGRATIONS } from './migrations';

/** Options shared by the app's TypeORM connection and the `npm run migrate` script. */
export function databaseOptions(db: AppConfig['database']): DataSourceOptions {
  return {
    type: 'postgres',
    url: db.url,
    // Schema changes come from migrations only.
    synchronize: false,
    migrations: MIGRATIONS,
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'each',
    extra: {
      max: db.poolSize,
      connectionTimeoutMillis: 5_000,
      application_name: 'nestream',
      // Every transaction's isolation is set once per connection, not with a SET statement per
      // transaction (a round trip each): the claim, the relay and the consumers rely on READ COMMITTED.
      options: '-c default_transaction_isolation=read\\ committed',
    },
  };
}
