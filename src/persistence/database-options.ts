import { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/app.config';
import { MIGRATIONS } from './migrations';
import { pgWithRequestShare, requestShareOf } from './request-share';

const CONNECT_TIMEOUT_MS = 5_000;

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
    driver: pgWithRequestShare(requestShareOf(db.poolSize, db.poolReserved), CONNECT_TIMEOUT_MS),
    extra: {
      max: db.poolSize,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      application_name: 'nestream',
      // Every transaction's isolation is set once per connection, not with a SET statement per
      // transaction (a round trip each): the claim, the relay and the consumers rely on READ COMMITTED.
      options: '-c default_transaction_isolation=read\\ committed',
    },
  };
}
